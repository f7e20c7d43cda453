# Children, their names, statuses and involvements are deliberately not in the Django admin:
# every look at a child's record must state a reason and be audited (registry.lookups.services),
# which the admin's generic pages cannot do. Register managers' own pages (issue 4) are
# where records are maintained.
