"""minGRU (Feng et al. 2024, "Were RNNs All We Needed?") as an rnnbench plugin: sequential and parallel-scan forms."""
