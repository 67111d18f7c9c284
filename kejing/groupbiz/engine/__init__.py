"""Pure computation for group business: numbering rules and the monthly bill run. No Django imports here, so
the engines run from the command line, in benchmarks and in tests without a database."""
