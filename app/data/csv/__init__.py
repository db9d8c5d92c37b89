"""CSV import: dialect and layout detection, chunked streaming reader, row checks."""
