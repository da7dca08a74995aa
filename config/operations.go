package config

import (
	"fmt"
	"net"
	"strings"
	"unicode"
)

// applyTrustedProxies parses CIDRs or single addresses (taken as one host).
func applyTrustedProxies(c *Config, value string) []string {
	fields := strings.FieldsFunc(value, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	var problems []string
	var nets []*net.IPNet
	for _, field := range fields {
		if _, n, err := net.ParseCIDR(field); err == nil {
			nets = append(nets, n)
			continue
		}
		if ip := net.ParseIP(field); ip != nil {
			bits := 8 * net.IPv6len
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 8*net.IPv4len
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		problems = append(problems, fmt.Sprintf("%q is not a CIDR or an IP address; write e.g. 10.0.0.0/8 or 192.0.2.10", field))
	}
	if len(problems) > 0 {
		return problems
	}
	c.TrustedProxies = nets
	return nil
}

// applyMetricsAddr takes a host:port that must differ from LISTEN_ADDR
// (checked before it): metrics are for the monitoring network, not users.
func applyMetricsAddr(c *Config, value string) []string {
	listen := c.ListenAddr
	if problems := applyListenAddr(c, value); problems != nil {
		c.ListenAddr = listen
		return problems
	}
	c.MetricsAddr, c.ListenAddr = value, listen
	if sameAddr(value, listen) {
		return []string{fmt.Sprintf("%q is also LISTEN_ADDR; give the metrics their own port, e.g. 127.0.0.1:9090", value)}
	}
	return nil
}

func sameAddr(a, b string) bool {
	_, pa, errA := net.SplitHostPort(a)
	_, pb, errB := net.SplitHostPort(b)
	return errA == nil && errB == nil && (a == b || pa == pb && (strings.HasPrefix(a, ":") || strings.HasPrefix(b, ":")))
}
