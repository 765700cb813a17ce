"""All or nothing: the write lock and the journal that puts a store back when a writing command does not finish."""
