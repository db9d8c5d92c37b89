"""Tag maps (TOML) of Modbus sources: the model, loading and validation, overlap checks."""
