"""CTI intake, the live queue, pick-up, notes and wrap-up."""
