"""driftwatch's benchmark (issue #10): ``python -m bench.run`` — see bench/README.md.

A GitOps repository of N objects is generated in a temp dir, the same objects
are served as a real kube-apiserver returned them (derived from the recorded
fixtures) by the Kubernetes API test server in its own process, and driftwatch
runs a full check in another process whose time, stages, CPU and peak RSS are
measured against a floor (bare ``kubernetes`` client list + PyYAML C parse).
"""
