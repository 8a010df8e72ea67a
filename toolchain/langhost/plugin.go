package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	// analyzerKind is RunPluginRequest.kind of a policy pack (`--policy-pack <dir>`).
	analyzerKind = "analyzer"
	// defaultPluginVirtualenv: like upstream, a plugin never runs in the ambient Python:
	// without a `virtualenv` option it runs in the `venv` beside its PulumiPolicy.yaml.
	defaultPluginVirtualenv = "venv"
	readChunkBytes          = 64 * 1024
)

// RunPlugin runs a Python plugin for the engine (a policy pack: `python -m pulumi.policy`),
// streaming its stdout and stderr as they come, then its exit code: the engine takes the port
// from the first stdout line and ends the plugin by cancelling this call.
func (h *host) RunPlugin(
	request *pulumirpc.RunPluginRequest, stream pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	python, err := pluginInterpreter(request.GetInfo())
	if err != nil {
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	command := exec.Command(python, pluginArguments(request)...)
	command.Dir = request.GetPwd()
	command.Env = pluginEnvironment(os.Environ(), request.GetEnv(), python)
	stdout, err := command.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := command.StderrPipe()
	if err != nil {
		return err
	}
	if err := command.Start(); err != nil {
		return fmt.Errorf("starting plugin %s: %w", python, err)
	}
	h.children.add(command.Process)
	defer h.children.remove(command.Process)
	go func() {
		<-stream.Context().Done()
		stop(command.Process)
	}()
	chunks := make(chan *pulumirpc.RunPluginResponse)
	done := make(chan struct{}, 2)
	go pump(stdout, chunks, done, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	})
	go pump(stderr, chunks, done, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	})
	for open := 2; open > 0; {
		select {
		case chunk := <-chunks:
			_ = stream.Send(chunk) // a cancelled stream: the plugin is being stopped anyway
		case <-done:
			open--
		}
	}
	code := exitCode(command.Wait(), command.ProcessState)
	return stream.Send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)},
	})
}

// pump sends what `reader` gives as soon as it comes, then signals `done` at EOF.
func pump(
	reader io.Reader, chunks chan<- *pulumirpc.RunPluginResponse, done chan<- struct{},
	wrap func([]byte) *pulumirpc.RunPluginResponse,
) {
	buffer := make([]byte, readChunkBytes)
	for {
		n, err := reader.Read(buffer)
		if n > 0 {
			chunks <- wrap(append([]byte(nil), buffer[:n]...))
		}
		if err != nil {
			done <- struct{}{}
			return
		}
	}
}

// pluginInterpreter is the Python of the plugin's virtualenv: its `virtualenv` runtime option,
// relative to the plugin's directory (the engine sends that directory as root_directory).
func pluginInterpreter(info *pulumirpc.ProgramInfo) (string, error) {
	venv, _ := runtimeOption(info, "virtualenv")
	if venv == "" {
		venv = defaultPluginVirtualenv
	}
	python := filepath.Clean(filepath.Join(info.GetRootDirectory(), venv, "bin", "python"))
	if stat, err := os.Stat(python); err != nil || stat.Mode()&0o111 == 0 {
		return "", fmt.Errorf(
			"plugin %s: runtime option virtualenv '%s' has no %s (accepted: a virtualenv with "+
				"the plugin's packages, relative to the plugin's directory; toolchain/ensure.sh "+
				"makes the project's venv/)", info.GetRootDirectory(), venv, python)
	}
	return python, nil
}

// pluginArguments: the engine's arguments (for a policy pack, its own address) come first for a
// policy pack, whose runner is the SDK's pulumi.policy module; any other plugin is a directory
// with a __main__.py that takes the engine's arguments. -u: the engine waits for the plugin's
// port on its first line of output, unbuffered.
func pluginArguments(request *pulumirpc.RunPluginRequest) []string {
	info := request.GetInfo()
	directory := firstNonEmpty(info.GetProgramDirectory(), info.GetRootDirectory())
	if request.GetKind() == analyzerKind {
		return append(append([]string{"-u", "-m", "pulumi.policy"}, request.GetArgs()...), directory)
	}
	return append([]string{"-u", directory}, request.GetArgs()...)
}

// pluginEnvironment is the engine's environment for the plugin (it sends the whole of it,
// KEY=VALUE) in the plugin's virtualenv, as `activate` would set it.
func pluginEnvironment(base, engine []string, python string) []string {
	variables := map[string]string{}
	for _, entry := range engine {
		if key, value, found := strings.Cut(entry, "="); found {
			variables[key] = value
		}
	}
	venvBin := filepath.Dir(python)
	path := variables["PATH"]
	if _, set := variables["PATH"]; !set {
		path = lookup(base, "PATH")
	}
	variables["VIRTUAL_ENV"] = filepath.Dir(venvBin)
	variables["PATH"] = venvBin + string(os.PathListSeparator) + path
	environment := withVariables(base, variables)
	kept := environment[:0]
	for _, entry := range environment {
		if !strings.HasPrefix(entry, "PYTHONHOME=") {
			kept = append(kept, entry)
		}
	}
	return kept
}

func lookup(environment []string, key string) string {
	for _, entry := range environment {
		if name, value, found := strings.Cut(entry, "="); found && name == key {
			return value
		}
	}
	return ""
}
