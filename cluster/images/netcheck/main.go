// netcheck checks a pod's view of the cluster network: for each URL it resolves the host
// with the pod's resolver (cluster DNS), then sends one GET, and prints one JSON line:
// {"url", "addrs", "status", "body", "error"}. Standard library only.
//
//	netcheck [-token] [-wait 30s] URL...
//
// For https URLs the pod's ServiceAccount CA is trusted; with -token the ServiceAccount
// token is sent (for https://kubernetes.default.svc). Exit status 1 if any URL failed.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

type result struct {
	URL    string   `json:"url"`
	Addrs  []string `json:"addrs"`
	Status int      `json:"status"`
	Body   string   `json:"body"`
	Error  string   `json:"error,omitempty"`
}

func main() {
	sendToken := flag.Bool("token", false, "send the pod's ServiceAccount token")
	wait := flag.Duration("wait", 30*time.Second, "retry each URL for this long until it answers")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: netcheck [-token] [-wait 30s] URL...")
		os.Exit(2)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: serviceAccountCAs()},
	}}
	failed := false
	for _, target := range flag.Args() {
		deadline := time.Now().Add(*wait)
		r := check(client, target, *sendToken)
		for r.Error != "" && time.Now().Before(deadline) {
			time.Sleep(500 * time.Millisecond)
			r = check(client, target, *sendToken)
		}
		failed = failed || r.Error != ""
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
	}
	if failed {
		os.Exit(1)
	}
}

func check(client *http.Client, target string, sendToken bool) result {
	r := result{URL: target}
	u, err := url.Parse(target)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.Addrs, err = net.DefaultResolver.LookupHost(ctx, u.Hostname()); err != nil {
		r.Error = "resolve: " + err.Error()
		return r
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if sendToken {
		token, err := os.ReadFile(serviceAccountDir + "/token")
		if err != nil {
			r.Error = "token: " + err.Error()
			return r
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	}
	resp, err := client.Do(req)
	if err != nil {
		r.Error = "get: " + err.Error()
		return r
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	r.Status, r.Body = resp.StatusCode, string(body)
	return r
}

// serviceAccountCAs is the cluster CA a pod gets with its ServiceAccount, if mounted.
func serviceAccountCAs() *x509.CertPool {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(serviceAccountDir + "/ca.crt"); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	return pool
}
