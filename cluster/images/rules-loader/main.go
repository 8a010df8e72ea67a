// rules-loader gives Prometheus the rules that apps bring in ConfigMaps: the PrometheusRule
// pattern without an operator. A sidecar of Prometheus; every -interval it lists the ConfigMaps
// of every namespace that have the label -label=true, through the API server (the pod's
// ServiceAccount token and CA), and makes -dir hold exactly one file per data key ending in
// .yaml or .yml, named <namespace>_<configmap>_<key> (other keys are ignored, with a log line).
// When a file was added, changed or removed, it asks Prometheus to reload (POST -reload-url)
// and logs the outcome.
//
// One bad ConfigMap does not stop the others': when Prometheus refuses the new rules, the new
// files are tried one at a time, and each that Prometheus refuses is taken out again (a changed
// one gets its previous content back) and left out, with a log line, until its content changes.
// Nothing is written while Prometheus is not ready, so that it never starts on an unchecked file.
// Standard library only.
//
//	rules-loader -label demo-orq.io/prometheus-rules -dir /etc/prometheus/app-rules
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

type configMapList struct {
	Items []struct {
		Metadata struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	} `json:"items"`
}

// errRefused is a reload that Prometheus answered with an error: it refused what it read.
var errRefused = errors.New("Prometheus refused the configuration")

type loader struct {
	dir       string
	listURL   string
	reloadURL string
	readyURL  string
	api       *http.Client
	local     *http.Client
	// What Prometheus refused, by file: left out while the ConfigMap's key keeps this content.
	rejected map[string]string
	// Keys that are not rule files, logged once each.
	ignored map[string]bool
	// The files written since the last reload that went through: what they had before.
	unconfirmed map[string]change
	waiting     bool
}

type change struct {
	old, new string
	existed  bool // the file was there before, with old
}

func main() {
	label := flag.String("label", "demo-orq.io/prometheus-rules", "ConfigMaps with LABEL=true are read")
	dir := flag.String("dir", "/etc/prometheus/app-rules", "where the rule files are written")
	prometheus := flag.String("prometheus", "http://127.0.0.1:9090", "Prometheus' URL")
	interval := flag.Duration("interval", 5*time.Second, "how often the ConfigMaps are listed")
	flag.Parse()
	log.SetFlags(log.Ldate | log.Ltime | log.LUTC)

	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		log.Fatal("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: not in a pod")
	}
	ca, err := os.ReadFile(filepath.Join(serviceAccountDir, "ca.crt"))
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		log.Fatalf("no certificate in %s/ca.crt", serviceAccountDir)
	}
	selector := url.Values{"labelSelector": {*label + "=true"}}.Encode()
	l := &loader{
		dir:       *dir,
		listURL:   "https://" + net.JoinHostPort(host, port) + "/api/v1/configmaps?" + selector,
		reloadURL: *prometheus + "/-/reload",
		readyURL:  *prometheus + "/-/ready",
		api: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		}},
		local:       &http.Client{Timeout: 60 * time.Second},
		rejected:    map[string]string{},
		ignored:     map[string]bool{},
		unconfirmed: map[string]change{},
	}
	log.Printf("rules-loader: ConfigMaps with %s=true of every namespace into %s, every %s",
		*label, *dir, *interval)
	for {
		if err := l.sync(); err != nil {
			log.Printf("error: %v", err)
		}
		time.Sleep(*interval)
	}
}

// wanted lists the ConfigMaps: the content of each rule file, by file name.
func (l *loader) wanted() (map[string]string, error) {
	token, err := os.ReadFile(filepath.Join(serviceAccountDir, "token")) // rotated: read each time
	if err != nil {
		return nil, err
	}
	request, err := http.NewRequest(http.MethodGet, l.listURL, nil)
	if err != nil {
		return nil, err
	}
	request.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	request.Header.Set("Accept", "application/json")
	response, err := l.api.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return nil, err
	}
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing ConfigMaps: %s: %s", response.Status, bytes.TrimSpace(body))
	}
	var list configMapList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("listing ConfigMaps: %v", err)
	}
	files := map[string]string{}
	for _, item := range list.Items {
		for key, content := range item.Data {
			// Namespace and ConfigMap names have no "_" (DNS names): the file name is unambiguous.
			name := item.Metadata.Namespace + "_" + item.Metadata.Name + "_" + key
			if !strings.HasSuffix(key, ".yaml") && !strings.HasSuffix(key, ".yml") {
				if !l.ignored[name] {
					log.Printf("ignored key %q of ConfigMap %s/%s: not a .yaml or .yml file",
						key, item.Metadata.Namespace, item.Metadata.Name)
					l.ignored[name] = true
				}
				continue
			}
			files[name] = content
		}
	}
	return files, nil
}

// written reads the rule files of the folder: the content of each, by file name.
func (l *loader) written() (map[string]string, error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, entry := range entries {
		name := entry.Name()
		if !entry.Type().IsRegular() || strings.HasPrefix(name, ".") ||
			!(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		content, err := os.ReadFile(filepath.Join(l.dir, name))
		if err != nil {
			return nil, err
		}
		files[name] = string(content)
	}
	return files, nil
}

// put makes the file hold content, or removes it when ok is false. Atomic: a file is never
// read half written (the temporary name starts with a dot, which Prometheus' globs skip).
func (l *loader) put(name, content string, ok bool) error {
	path := filepath.Join(l.dir, name)
	if !ok {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	temporary := filepath.Join(l.dir, "."+name+".tmp")
	if err := os.WriteFile(temporary, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(temporary, path)
}

func (l *loader) sync() error {
	want, err := l.wanted()
	if err != nil {
		return err
	}
	have, err := l.written()
	if err != nil {
		return err
	}
	// A refused content stays out (the file keeps what it had) until the ConfigMap changes.
	for name, content := range l.rejected {
		if wanted, ok := want[name]; !ok || wanted != content {
			delete(l.rejected, name)
			continue
		}
		if old, ok := have[name]; ok {
			want[name] = old
		} else {
			delete(want, name)
		}
	}
	var changed, removed []string
	for name, content := range want {
		if old, ok := have[name]; !ok || old != content {
			changed = append(changed, name)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			removed = append(removed, name)
		}
	}
	sort.Strings(changed)
	sort.Strings(removed)
	if len(changed) == 0 && len(removed) == 0 && len(l.unconfirmed) == 0 {
		return nil
	}
	if !l.ready() {
		if !l.waiting {
			log.Printf("Prometheus is not ready: %d rule files to write, %d to remove, later",
				len(changed), len(removed))
			l.waiting = true
		}
		return nil
	}
	l.waiting = false
	for _, name := range removed {
		if err := l.put(name, "", false); err != nil {
			return err
		}
		delete(l.unconfirmed, name)
	}
	for _, name := range changed {
		if err := l.put(name, want[name], true); err != nil {
			return err
		}
		change, seen := l.unconfirmed[name]
		if !seen {
			change.old, change.existed = have[name]
		}
		change.new = want[name]
		l.unconfirmed[name] = change
	}
	summary := fmt.Sprintf("%d rule files; written %s; removed %s", len(want), list(changed),
		list(removed))
	err = l.reload()
	switch {
	case err == nil:
		clear(l.unconfirmed)
		log.Printf("Prometheus reloaded: %s", summary)
		return nil
	case !errors.Is(err, errRefused):
		return fmt.Errorf("%s: reload failed, tried again in the next round: %v", summary, err)
	}
	log.Printf("Prometheus refused the new rules (%s): %v; trying the new files one at a time",
		summary, err)
	return l.sortOut()
}

// sortOut puts back what the files written since the last reload had before, reloads, then
// writes them again one at a time, and takes out again each that Prometheus refuses.
func (l *loader) sortOut() error {
	names := make([]string, 0, len(l.unconfirmed))
	for name := range l.unconfirmed {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		change := l.unconfirmed[name]
		if err := l.put(name, change.old, change.existed); err != nil {
			return err
		}
	}
	if err := l.reload(); err != nil {
		return fmt.Errorf("Prometheus refuses its configuration even without the new rule files, tried again in the next round: %v", err)
	}
	for _, name := range names {
		change := l.unconfirmed[name]
		if err := l.put(name, change.new, true); err != nil {
			return err
		}
		err := l.reload()
		if err == nil {
			log.Printf("Prometheus reloaded: %s written", name)
			delete(l.unconfirmed, name)
			continue
		}
		if !errors.Is(err, errRefused) {
			return fmt.Errorf("reload with %s failed, tried again in the next round: %v", name, err)
		}
		if err := l.put(name, change.old, change.existed); err != nil {
			return err
		}
		l.rejected[name] = change.new
		what := "left out"
		if change.existed {
			what = "its previous content kept"
		}
		log.Printf("rejected %s (%s until its ConfigMap changes; Prometheus' log says why): %v",
			name, what, err)
		if err := l.reload(); err != nil {
			return fmt.Errorf("reload without %s failed, tried again in the next round: %v", name, err)
		}
		delete(l.unconfirmed, name)
	}
	return nil
}

func (l *loader) ready() bool {
	response, err := l.local.Get(l.readyURL)
	if err != nil {
		return false
	}
	defer response.Body.Close()
	_, _ = io.Copy(io.Discard, response.Body)
	return response.StatusCode == http.StatusOK
}

// reload asks Prometheus to read its configuration and rule files again; errRefused when it
// answered that it could not (it keeps the rules it had).
func (l *loader) reload() error {
	response, err := l.local.Post(l.reloadURL, "", nil)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	switch response.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusInternalServerError:
		return fmt.Errorf("%w: %s", errRefused, bytes.TrimSpace(body))
	default:
		return fmt.Errorf("POST %s: %s: %s", l.reloadURL, response.Status, bytes.TrimSpace(body))
	}
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
