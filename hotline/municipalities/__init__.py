"""The 98 municipalities, postal codes, dialled numbers and participation."""
