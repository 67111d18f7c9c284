"""Organisation: the unit tree (company → department → market → region unit), staff and their roles."""
