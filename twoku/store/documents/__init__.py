"""Store files as text: the YAML readers (quick and full), where a finding stands in a file, round-trip edits,
new files."""
