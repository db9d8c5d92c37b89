"""The PlantML controller protocol: register map, codes and word packing, defined once and used
by the workstation client (app.devices.flash) and the controller runtime (app.devices.controller).
"""
