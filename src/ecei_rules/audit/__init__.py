"""Decision records, the hash-chained decision log, verification and replay."""
