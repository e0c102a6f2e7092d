"""Testing: test orders from plans, regional rounds in pooled tubes, lab results, recall, coverage."""
