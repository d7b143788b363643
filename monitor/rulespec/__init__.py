"""The versioned agreement-file spec (slamon/v1) and its loader."""
