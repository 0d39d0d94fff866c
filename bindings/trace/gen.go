package trace

// The BPF programs are compiled by `make generate` (Debian's clang and
// libbpf-dev); the generated Go and objects are committed, so building ctrsh
// needs no clang.
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type hdr -type exec_event -type exit_event -type oom_event -type connect_event -type open_event bpf bpf/trace.bpf.c -- -I./bpf -O2 -g -Wall -Werror
