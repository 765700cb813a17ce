"""What validate keeps of a checked store between runs (under .git/twoku or TWOKU_CACHE_DIR)."""
