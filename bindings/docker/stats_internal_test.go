package docker

import (
	"math"
	"testing"
)

func TestParseNetDev(t *testing.T) {
	b := []byte(`Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
  eth0: 1000000    2000    1    2    0     0          0         0   500000    1500    3    4    0     0       0          0
  eth1:      10       1    0    0    0     0          0         0       20       2    0    0    0     0       0          0
`)
	nd, err := parseNetDev(b)
	if err != nil {
		t.Fatal(err)
	}
	want := NetCounters{RxBytes: 1000010, RxPackets: 2001, RxErrors: 1, RxDropped: 2, TxBytes: 500020, TxPackets: 1502, TxErrors: 3, TxDropped: 4}
	if nd.Total != want {
		t.Errorf("total = %+v, want %+v (lo left out)", nd.Total, want)
	}
	if nd.Interfaces["lo"].RxBytes != 840 || len(nd.Interfaces) != 3 {
		t.Errorf("interfaces = %+v", nd.Interfaces)
	}
	if _, err := parseNetDev([]byte("h\nh\n  eth0: 1 2 3\n")); err == nil {
		t.Error("a short line parsed")
	}
	row := func(first string) []byte {
		return []byte("h\nh\n  eth0: " + first + " 0 0 0 0 0 0 0 7 0 0 0 0 0 0 0\n")
	}
	if nd, err := parseNetDev(row("18446744073709551615")); err != nil || nd.Total.RxBytes != math.MaxUint64 || nd.Total.TxBytes != 7 {
		t.Errorf("the largest counter: %+v, %v", nd, err)
	}
	for _, bad := range []string{"18446744073709551616", "-1", "1x", "0x10"} {
		if _, err := parseNetDev(row(bad)); err == nil {
			t.Errorf("counter %q parsed", bad)
		}
	}
}

func TestCPUPercent(t *testing.T) {
	h0, err := parseProcStat([]byte("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0\ncpu1 50 0 50 400 0 0 0\nintr 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if h0.online != 2 || h0.totalNs != 1000*1e7 {
		t.Fatalf("host = %+v", h0)
	}
	h1 := hostCPU{totalNs: h0.totalNs + 2e9, online: 2} // 1 s on 2 CPUs
	// One full CPU for that second is 100%, as docker stats shows it.
	if p := cpuPercent(0, 1e9, h0, h1); math.Abs(p-100) > 1e-9 {
		t.Errorf("percent = %v, want 100", p)
	}
	if p := cpuPercent(5, 1, h0, h1); p != 0 {
		t.Errorf("a counter that went back gave %v", p)
	}
	if _, err := parseProcStat([]byte("intr 1\n")); err == nil {
		t.Error("no cpu line parsed")
	}
}
