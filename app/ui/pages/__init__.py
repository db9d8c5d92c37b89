"""The five pages of the main window (Data, Train, Models, Controllers, Audit) and their base."""
