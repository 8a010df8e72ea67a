// frontend is the app's front: it serves `/` by asking the API (the app's Service, by its DNS
// name) and answering "frontend -> <the API's answer>", so that the document's NetworkPolicy
// "only frontend -> api" has a real frontend. `/health` answers without asking the API (the
// kubelet's probes). Standard library only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const apiTimeout = 2 * time.Second

func main() {
	listen := flag.String("listen", ":8080", "address and port to listen")
	api := flag.String("api", "", "the API's URL, e.g. http://hello-svc.demo.svc/")
	flag.Parse()
	if *api == "" {
		fmt.Fprintln(os.Stderr, "frontend needs -api")
		os.Exit(2)
	}
	client := &http.Client{Timeout: apiTimeout}

	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		text, err := ask(r.Context(), client, *api)
		if err != nil {
			log.Printf("[ERR] %s", err)
			http.Error(w, "frontend: "+err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "frontend -> %s\n", text)
	})

	server := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		log.Printf("[INFO] frontend listening on %s, API at %s", *listen, *api)
		if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatalf("[ERR] server exited with: %s", err)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		log.Fatalf("[ERR] failed to shut down: %s", err)
	}
}

// errNoAnswer is a request that got no answer at all.
var errNoAnswer = errors.New("the API did not answer")

// ask gets the API's answer; a request that got none (a connection that a stopping pod closed)
// is tried once more on a new connection. An answer that is an error is passed on as it is.
func ask(ctx context.Context, client *http.Client, url string) (string, error) {
	text, err := get(ctx, client, url)
	if errors.Is(err, errNoAnswer) && ctx.Err() == nil {
		text, err = get(ctx, client, url)
	}
	return text, err
}

func get(ctx context.Context, client *http.Client, url string) (string, error) {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	response, err := client.Do(request)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(io.LimitReader(response.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("the API's answer broke off: %w", err)
	}
	if response.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the API answered HTTP %d: %s", response.StatusCode, strings.TrimSpace(string(body)))
	}
	return strings.TrimSpace(string(body)), nil
}
