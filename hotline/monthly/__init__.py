"""The monthly documents per municipality (bill bases, insight reports): stored and e-mailed."""
