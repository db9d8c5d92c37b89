"""The Qt desktop application: the only package that imports Qt."""

from app.ui.refcount_guard import protect_singletons

# Before any other Qt call of this package: see refcount_guard for the crash it prevents.
protect_singletons()
