"""The chapter's small studies as pure functions; `experiments/` runs and records them."""
