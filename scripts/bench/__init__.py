"""sdgui's benchmark harness (`make bench`; `python -m scripts.bench --help`).

servers.py starts SeaweedFS and `rclone serve s3`; latency_proxy.py delays traffic in front of one; clients.py says
how sdgui, s5cmd and rclone do each operation; processes.py runs and measures one command; harness.py interleaves
the clients over the runs of one workload; workloads.py defines W1-W6; report.py and sweep.py make the tables.
"""
