"""Territories (customer-to-CM assignment) and visit routes (issue #5)."""
