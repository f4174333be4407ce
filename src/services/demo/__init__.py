"""Demo data: a realistic, deterministic data set for `khanyisa seed-demo` and `make run`."""
