"""The demo workspace: synthetic scans with ground truth, users and batches."""
