package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRedisURL(t *testing.T) {
	const password = "hunter2-redis-pass"
	tests := []struct {
		name, value string
		wantErr     string // empty: valid
	}{
		{name: "unset is fine", value: ""},
		{name: "plain", value: "redis://127.0.0.1:6379"},
		{name: "password and db", value: "redis://:" + password + "@redis.internal:6379/2"},
		{name: "tls", value: "rediss://default:" + password + "@redis.example.com"},
		{name: "wrong scheme", value: "http://:" + password + "@redis.internal:6379", wantErr: "must start with redis:// or rediss://"},
		{name: "no host", value: "redis://:" + password + "@:6379", wantErr: "has no host"},
		{name: "bad port", value: "redis://:" + password + "@redis.internal:99999", wantErr: "invalid port"},
		{name: "bad db", value: "redis://:" + password + "@redis.internal:6379/zero", wantErr: "not a database number"},
		{name: "query", value: "redis://:" + password + "@redis.internal:6379/0?protocol=3", wantErr: "query"},
		{name: "not a url", value: "redis://:" + password + "@[::1", wantErr: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(nil, with(validEnv(), map[string]string{"REDIS_URL": tt.value}), nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if c.RedisURL != tt.value {
					t.Errorf("RedisURL = %q, want %q", c.RedisURL, tt.value)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "REDIS_URL: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want REDIS_URL ... %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the Redis password: %v", err)
			}
		})
	}
}

func TestRedisURLFromFileAndNeverPrinted(t *testing.T) {
	const url = "redis://:s3cret-redis-pass@redis.internal:6379/0"
	env := with(validEnv(), map[string]string{"REDIS_URL_FILE": "/run/secrets/redis"})
	c := mustLoad(t, nil, env, map[string]string{"/run/secrets/redis": url + "\n"})
	if c.RedisURL != url {
		t.Fatalf("RedisURL = %q, want %q", c.RedisURL, url)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", c)
	for name, out := range map[string]string{"String": c.String(), "log": logs.String()} {
		if strings.Contains(out, "s3cret") {
			t.Errorf("%s shows the Redis password: %s", name, out)
		}
	}
	if !strings.Contains(logs.String(), `"redis_url":"set"`) {
		t.Errorf("the log does not say Redis is configured: %s", logs.String())
	}
}
