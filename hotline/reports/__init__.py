"""The cost model and call-cost reports."""
