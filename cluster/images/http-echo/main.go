// http-echo serves a fixed text on every path, like hashicorp/http-echo 0.2.3
// (whose module the Go proxy does not serve). Standard library only.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	name    = "http-echo"
	version = "0.2.3"
)

// answerDelay and failureEvery are empty in the image that stands in for hashicorp/http-echo.
// The tests' slow candidate is the same program built with -ldflags "-X main.answerDelay=250ms",
// their faulty one with "-X main.failureEvery=20": every 20th answer of `/` is a 500 (5%), and
// their broken one with "-X main.failureEvery=1": every answer is. The kubelet's probes are never
// failed nor counted, as an app whose health check passes while its users get errors.
var answerDelay, failureEvery string

func main() {
	listen := flag.String("listen", ":5678", "address and port to listen")
	text := flag.String("text", "", "text to put on the webpage")
	showVersion := flag.Bool("version", false, "display version information")
	flag.Parse()

	if *showVersion {
		fmt.Printf("%s v%s\n", name, version)
		return
	}
	if *text == "" {
		fmt.Fprintln(os.Stderr, "Missing -text option!")
		os.Exit(127)
	}
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "Too many arguments!")
		os.Exit(127)
	}

	var delay time.Duration
	if answerDelay != "" {
		parsed, err := time.ParseDuration(answerDelay)
		if err != nil {
			log.Fatalf("[ERR] bad answerDelay %q: %s", answerDelay, err)
		}
		delay = parsed
	}

	var every uint64
	if failureEvery != "" {
		parsed, err := strconv.ParseUint(failureEvery, 10, 32)
		if err != nil || parsed == 0 {
			log.Fatalf("[ERR] bad failureEvery %q: a whole number above 0", failureEvery)
		}
		every = parsed
	}
	var answered atomic.Uint64

	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		probe := strings.HasPrefix(r.UserAgent(), "kube-probe/")
		if every > 0 && !probe && answered.Add(1)%every == 0 {
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, *text)
	})

	server := &http.Server{Addr: *listen, Handler: withHeadersAndLog(mux)}
	go func() {
		log.Printf("[INFO] server is listening on %s\n", *listen)
		if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Fatalf("[ERR] server exited with: %s", err)
		}
	}()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	log.Printf("[INFO] received interrupt, shutting down...")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		log.Fatalf("[ERR] failed to shutdown server: %s", err)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func withHeadersAndLog(next http.Handler) http.Handler {
	logger := log.New(os.Stdout, "", log.LstdFlags)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App-Name", name)
		w.Header().Set("X-App-Version", version)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		logger.Printf("%s %s \"%s %s %s\" %d %q %q %s",
			r.Host, r.RemoteAddr, r.Method, r.URL.Path, r.Proto, rec.status,
			r.Referer(), r.UserAgent(), time.Since(start))
	})
}
