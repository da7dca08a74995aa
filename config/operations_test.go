package config

import (
	"strings"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	tests := []struct {
		value   string
		want    []string // the networks, as CIDR strings
		problem string   // part of the expected problem; "" when valid
	}{
		{"", nil, ""},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}, ""},
		{"10.1.2.3/8, 192.0.2.10  2001:db8::/32", []string{"10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32"}, ""},
		{"::1", []string{"::1/128"}, ""},
		{"10.0.0.0/33", nil, `TRUSTED_PROXIES: "10.0.0.0/33" is not a CIDR`},
		{"proxy.internal", nil, `"proxy.internal" is not a CIDR or an IP address`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, err := load(nil, with(validEnv(), map[string]string{"TRUSTED_PROXIES": tt.value}), nil)
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("error = %v, want one containing %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range c.TrustedProxies {
				got = append(got, n.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("TrustedProxies = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMetricsAddr(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    string
		problem string
	}{
		{map[string]string{}, "", ""},
		{map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}, "127.0.0.1:9090", ""},
		{map[string]string{"METRICS_ADDR": ":9090"}, ":9090", ""},
		{map[string]string{"METRICS_ADDR": "metrics"}, "", `METRICS_ADDR: "metrics" is not host:port`},
		{map[string]string{"METRICS_ADDR": ":8080"}, "", `":8080" is also LISTEN_ADDR`},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:8080", "METRICS_ADDR": "127.0.0.1:8080"}, "", "is also LISTEN_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.env["METRICS_ADDR"], func(t *testing.T) {
			c, err := load(nil, with(validEnv(), tt.env), nil)
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("error = %v, want one containing %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsAddr != tt.want {
				t.Errorf("MetricsAddr = %q, want %q", c.MetricsAddr, tt.want)
			}
			if c.ListenAddr != with(map[string]string{"LISTEN_ADDR": ":8080"}, tt.env)["LISTEN_ADDR"] {
				t.Errorf("ListenAddr changed to %q", c.ListenAddr)
			}
		})
	}
}
