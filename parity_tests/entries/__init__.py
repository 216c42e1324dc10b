"""Registry entries, one module per family of layers (each exports ``ENTRIES``)."""
