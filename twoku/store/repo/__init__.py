"""The store as a git repository: its index, history, diffs between revisions, commits and tags."""
