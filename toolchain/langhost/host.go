package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	hostVersion = "0.3.0"
	// exitCodeMessageShown: pulumi-language-python-exec exits with this code after it has
	// already shown the user an actionable message (a pulumi.RunError): the engine must not add
	// another.
	exitCodeMessageShown = 32
	execScriptName       = "pulumi-language-python-exec"
	runnerName           = "python_program_server.py"
)

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	mu            sync.Mutex
	engineAddress string
	// children are the running programs and plugins: the host ends them when the engine ends
	// the host (after a preview that a policy violation stopped, the program may still run).
	children *processes
	// installDir holds the exec script and the runner, beside this binary.
	installDir string
}

func newHost(engineAddress string) *host {
	installDir := "."
	if executable, err := os.Executable(); err == nil {
		installDir = filepath.Dir(executable)
	}
	return &host{engineAddress: engineAddress, children: newProcesses(), installDir: installDir}
}

func (h *host) Handshake(
	_ context.Context, request *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if request.GetEngineAddress() != "" {
		h.mu.Lock()
		h.engineAddress = request.GetEngineAddress()
		h.mu.Unlock()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: hostVersion}, nil
}

// GetRequiredPlugins: providers are loaded on demand, at the version each SDK registers its
// resources with.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// InstallDependencies: the virtualenvs (also the policy pack's) are made by
// toolchain/ensure.sh from requirements.txt; nothing to stream.
func (h *host) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	return nil
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (h *host) About(
	_ context.Context, request *pulumirpc.AboutRequest,
) (*pulumirpc.AboutResponse, error) {
	python := programInterpreter(request.GetInfo())
	return &pulumirpc.AboutResponse{Executable: python, Version: pythonVersion(python)}, nil
}

func (h *host) Run(ctx context.Context, request *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()
	python := programInterpreter(request.GetInfo())
	command := exec.Command(python, h.runnerArguments(request, engine)...)
	command.Env = execEnvironment(os.Environ(), request)
	command.Dir = request.GetPwd()
	command.Stdin, command.Stdout, command.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := command.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", python, err)
	}
	h.children.add(command.Process)
	defer h.children.remove(command.Process)
	return runResponse(exitCode(command.Wait(), command.ProcessState)), nil
}

// runnerArguments: python_program_server.py's runner, then the exec script and its flags.
func (h *host) runnerArguments(request *pulumirpc.RunRequest, engine string) []string {
	runner := filepath.Join(h.installDir, runnerName)
	script := filepath.Join(h.installDir, execScriptName)
	return append([]string{runner, "run", script}, execArguments(request, engine)...)
}

// programInterpreter is the Python of the project's virtualenv (the `virtualenv` runtime option
// of Pulumi.yaml, relative to the project's root), else python3 on PATH.
func programInterpreter(info *pulumirpc.ProgramInfo) string {
	if venv, ok := runtimeOption(info, "virtualenv"); ok && venv != "" {
		root := info.GetRootDirectory()
		if root == "" {
			root = "."
		}
		candidate := filepath.Join(root, venv, "bin", "python")
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
	}
	return "python3"
}

func runtimeOption(info *pulumirpc.ProgramInfo, name string) (string, bool) {
	value, ok := info.GetOptions().GetFields()[name]
	if !ok {
		return "", false
	}
	return value.GetStringValue(), true
}

// pythonVersion reads the interpreter's version from its virtualenv's pyvenv.cfg, without
// starting Python ("" when it is not a virtualenv's).
func pythonVersion(python string) string {
	text, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(python)), "pyvenv.cfg"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(text), "\n") {
		key, value, found := strings.Cut(line, "=")
		if found && strings.TrimSpace(key) == "version" {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// execArguments are pulumi-language-python-exec's flags for one RunRequest.
func execArguments(request *pulumirpc.RunRequest, engine string) []string {
	info := request.GetInfo()
	program := firstNonEmpty(info.GetProgramDirectory(), request.GetProgram(), ".")
	if entry := info.GetEntryPoint(); entry != "" && entry != "." {
		program = filepath.Join(program, entry)
	}
	dryRun := "false"
	if request.GetDryRun() {
		dryRun = "true"
	}
	arguments := []string{
		"--project=" + request.GetProject(),
		"--root_directory=" + firstNonEmpty(info.GetRootDirectory(), request.GetPwd()),
		"--stack=" + request.GetStack(),
		fmt.Sprintf("--parallel=%d", request.GetParallel()),
		"--dry_run=" + dryRun,
		"--pwd=" + request.GetPwd(),
		"--monitor=" + request.GetMonitorAddress(),
		"--engine=" + engine,
		"--organization=" + firstNonEmpty(request.GetOrganization(), "organization"),
		program,
	}
	return append(arguments, request.GetArgs()...)
}

// execEnvironment: the exec script receives the stack's configuration through the environment.
func execEnvironment(base []string, request *pulumirpc.RunRequest) []string {
	config, _ := json.Marshal(nonNilMap(request.GetConfig()))
	secretKeys, _ := json.Marshal(nonNilSlice(request.GetConfigSecretKeys()))
	return withVariables(base, map[string]string{
		"PULUMI_CONFIG":             string(config),
		"PULUMI_CONFIG_SECRET_KEYS": string(secretKeys),
	})
}

func runResponse(code int) *pulumirpc.RunResponse {
	switch code {
	case 0:
		return &pulumirpc.RunResponse{}
	case exitCodeMessageShown:
		return &pulumirpc.RunResponse{Bail: true}
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}
	}
}

// withVariables is `base` (KEY=VALUE entries) with `variables` set, replacing earlier values.
func withVariables(base []string, variables map[string]string) []string {
	result := make([]string, 0, len(base)+len(variables))
	for _, entry := range base {
		key, _, _ := strings.Cut(entry, "=")
		if _, replaced := variables[key]; !replaced {
			result = append(result, entry)
		}
	}
	for key, value := range variables {
		result = append(result, key+"="+value)
	}
	return result
}

func firstNonEmpty(values ...string) string {
	for _, value := range values {
		if value != "" {
			return value
		}
	}
	return ""
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
