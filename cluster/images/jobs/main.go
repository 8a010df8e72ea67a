// jobs runs the app's Jobs, standard library only:
//
//	jobs smoke -url URL [-expect TEXT] [-requests N] [-wait D]   the smoke test after a rollout
//	jobs etl -url URL -out DIR [-requests N]           the day's figures of the app, as JSON
//
// Both reach the app's Service in-cluster. smoke exits 1 when any answer is not a 200 with the
// expected text; its last lines are the Job's termination message, which `pulumi up` shows.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// warmUp bounds the wait for the Service's first answer by default: the pods are Ready, but the
// Service's endpoints follow a moment later.
const warmUp = 30 * time.Second

type answer struct {
	status  int
	text    string
	latency time.Duration
	err     error
}

func (a answer) ok(expect string) bool {
	return a.err == nil && a.status == http.StatusOK && (expect == "" || a.text == expect)
}

func (a answer) String() string {
	if a.err != nil {
		return "error: " + a.err.Error()
	}
	return fmt.Sprintf("HTTP %d %q in %.1f ms", a.status, a.text, float64(a.latency.Microseconds())/1000)
}

var client = &http.Client{Timeout: 5 * time.Second}

// shownFailures bounds the failed requests printed: the log's end is the error `pulumi up` shows.
const shownFailures = 3

func get(url string) answer {
	start := time.Now()
	response, err := client.Get(url)
	if err != nil {
		return answer{err: err, latency: time.Since(start)}
	}
	defer response.Body.Close()
	body, err := io.ReadAll(io.LimitReader(response.Body, 64<<10))
	return answer{status: response.StatusCode, text: strings.TrimSpace(string(body)), latency: time.Since(start), err: err}
}

// firstAnswer waits until the Service answers at all (any HTTP status), at most warmUp.
func firstAnswer(url string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		got := get(url)
		if got.err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within %s: %v", url, wait, got.err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func sample(url string, requests int, pause time.Duration) []answer {
	answers := make([]answer, 0, requests)
	for i := 0; i < requests; i++ {
		answers = append(answers, get(url))
		time.Sleep(pause)
	}
	return answers
}

func percentileMs(answers []answer, p float64) float64 {
	if len(answers) == 0 {
		return 0
	}
	latencies := make([]float64, len(answers))
	for i, a := range answers {
		latencies[i] = float64(a.latency.Microseconds()) / 1000
	}
	sort.Float64s(latencies)
	rank := int(p/100*float64(len(latencies))+0.999999) - 1
	if rank < 0 {
		rank = 0
	}
	return latencies[rank]
}

func where() string {
	job, namespace := os.Getenv("JOB_NAME"), os.Getenv("POD_NAMESPACE")
	if job == "" || namespace == "" {
		return ""
	}
	return fmt.Sprintf(" (log: kubectl logs -n %s job/%s)", namespace, job)
}

func smoke(args []string) error {
	flags := flag.NewFlagSet("smoke", flag.ExitOnError)
	url := flags.String("url", "", "the Service's URL")
	expect := flags.String("expect", "", "the text every answer must be; empty: any")
	requests := flags.Int("requests", 20, "how many requests, one after the other")
	wait := flags.Duration("wait", warmUp, "how long to wait for the Service's first answer")
	_ = flags.Parse(args)
	if *url == "" || *requests < 1 {
		return errors.New("smoke needs -url and -requests of 1 or more")
	}
	if err := firstAnswer(*url, *wait); err != nil {
		return fmt.Errorf("smoke test failed%s: %w", where(), err)
	}
	answers := sample(*url, *requests, 50*time.Millisecond)
	failed := 0
	for i, got := range answers {
		if got.ok(*expect) {
			continue
		}
		failed++
		if failed <= shownFailures {
			fmt.Printf("request %d: %s\n", i+1, got)
		}
	}
	if failed > shownFailures {
		fmt.Printf("... and %d more requests that failed\n", failed-shownFailures)
	}
	summary := fmt.Sprintf("%d of %d requests to %s answered 200 with the expected text, p99 %.1f ms",
		len(answers)-failed, len(answers), *url, percentileMs(answers, 99))
	if failed > 0 {
		if *expect != "" {
			fmt.Printf("expected: %q\n", *expect)
		}
		return fmt.Errorf("smoke test failed%s: %s", where(), summary)
	}
	fmt.Println("smoke test passed: " + summary)
	return nil
}

// Figures is what etl writes: one file per day, the last run of the day.
type Figures struct {
	Date          string         `json:"date"`
	Started       string         `json:"started"`
	URL           string         `json:"url"`
	Requests      int            `json:"requests"`
	Succeeded     int            `json:"succeeded"`
	SuccessPct    float64        `json:"success_percent"`
	P50Ms         float64        `json:"p50_ms"`
	P95Ms         float64        `json:"p95_ms"`
	P99Ms         float64        `json:"p99_ms"`
	AnswersByText map[string]int `json:"answers_by_text"`
}

func etl(args []string) error {
	flags := flag.NewFlagSet("etl", flag.ExitOnError)
	url := flags.String("url", "", "the Service's URL")
	out := flags.String("out", "/data", "the folder the day's file goes to (a volume)")
	requests := flags.Int("requests", 100, "how many requests, 20 a second")
	_ = flags.Parse(args)
	if *url == "" || *requests < 1 {
		return errors.New("etl needs -url and -requests of 1 or more")
	}
	started := time.Now().UTC()
	earlier, err := filepath.Glob(filepath.Join(*out, "figures-*.json"))
	if err != nil {
		return fmt.Errorf("etl failed%s: %w", where(), err)
	}
	fmt.Printf("on the volume before this run: %d file(s) %s\n", len(earlier), strings.Join(earlier, " "))
	if err := firstAnswer(*url, warmUp); err != nil {
		return fmt.Errorf("etl failed%s: %w", where(), err)
	}
	answers := sample(*url, *requests, 50*time.Millisecond)
	figures := Figures{
		Date: started.Format("2006-01-02"), Started: started.Format(time.RFC3339), URL: *url,
		Requests: len(answers), AnswersByText: map[string]int{},
		P50Ms: percentileMs(answers, 50), P95Ms: percentileMs(answers, 95), P99Ms: percentileMs(answers, 99),
	}
	for _, got := range answers {
		if got.ok("") {
			figures.Succeeded++
			figures.AnswersByText[got.text]++
		}
	}
	figures.SuccessPct = 100 * float64(figures.Succeeded) / float64(figures.Requests)
	path := filepath.Join(*out, "figures-"+figures.Date+".json")
	if err := writeAtomically(path, figures); err != nil {
		return fmt.Errorf("etl failed%s: %w", where(), err)
	}
	fmt.Printf("etl wrote %s: %d requests, %.1f%% succeeded, p99 %.1f ms\n",
		path, figures.Requests, figures.SuccessPct, figures.P99Ms)
	return nil
}

func writeAtomically(path string, value any) error {
	data, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		return err
	}
	temporary := path + ".tmp"
	if err := os.WriteFile(temporary, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(temporary, path)
}

func main() {
	commands := map[string]func([]string) error{"smoke": smoke, "etl": etl}
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: jobs smoke|etl -url URL [...] (jobs <command> -h tells the rest)")
		os.Exit(2)
	}
	if err := commands[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
