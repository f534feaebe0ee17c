"""Capability 3, enforce, at the network: what may leave the Magento hosts. One policy
(the gateway configuration's `egress` section) decides the forward proxy's answers and is
rendered into nftables, Kubernetes, Cilium and Squid rules."""
