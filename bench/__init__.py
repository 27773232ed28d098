"""The benchmark, kept outside the product: the synthetic workload, load on the HTTP API, the
stores and raw baselines it measures against, and the runner behind ``ledger bench``."""
