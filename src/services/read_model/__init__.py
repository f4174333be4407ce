"""The read model: the ticket list's statements (filters, search, sort, bounded windows) and the
counts the database keeps as tickets change (tallies), which the list and the dashboard read."""
