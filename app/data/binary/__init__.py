"""Binary imports (Parquet, NPZ, MAT): the importer and the sandboxed worker that parses
untrusted files in a child process with memory and time limits."""
