// helm-render renders a Helm chart's templates the way `helm template` does, for the chart tests:
// no helm binary can be installed on the machines that run them, but Go's text/template, sprig
// (the template function library Helm uses) and sigs.k8s.io/yaml (Helm's YAML) come as Debian
// packages. The engine parts follow helm/pkg/engine: every file of templates/ is parsed into one
// template set, partials (`_*`) are not rendered, missing keys render as empty, and the functions
// the chart uses (include, tpl, required, fail, toYaml, fromYaml, toJson, fromJson, .Files.Get)
// behave as in Helm 3. Values are coalesced as Helm does: values.yaml, then each -f file on top;
// a null in a later file deletes the key. Not implemented: lookup, subcharts, .helmignore,
// values.schema.json validation (the tests validate the schema themselves).
//
// Build (GOPATH mode, no network): GO111MODULE=off GOPATH=/usr/share/gocode go build -o OUT .
// Usage: helm-render -chart DIR -name RELEASE -namespace NS [-f values.yaml]...
// Prints {"templates": {"driftwatch/templates/x.yaml": "...rendered..."}} on stdout, or the error
// on stderr with exit code 1.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// metadata holds the Chart.yaml fields templates read, named as Helm's chart.Metadata names them.
type metadata struct {
	APIVersion  string            `json:"apiVersion"`
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	AppVersion  string            `json:"appVersion"`
	Description string            `json:"description"`
	Type        string            `json:"type"`
	KubeVersion string            `json:"kubeVersion"`
	Home        string            `json:"home"`
	Sources     []string          `json:"sources"`
	Keywords    []string          `json:"keywords"`
	Annotations map[string]string `json:"annotations"`
}

// files is .Files: the chart's files outside templates/, Chart.yaml and the values files.
type files map[string][]byte

func (f files) Get(name string) string      { return string(f[name]) }
func (f files) GetBytes(name string) []byte { return f[name] }

type apiVersions []string

func (a apiVersions) Has(version string) bool {
	for _, v := range a {
		if v == version {
			return true
		}
	}
	return false
}

const recursionMax = 1000

func main() {
	chartDir := flag.String("chart", "", "chart directory")
	name := flag.String("name", "release", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	var extra valueFiles
	flag.Var(&extra, "f", "values file (repeatable; later files win)")
	flag.Parse()
	out, err := render(*chartDir, *name, *namespace, extra)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]interface{}{"templates": out}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func render(chartDir, name, namespace string, extra []string) (map[string]string, error) {
	var meta metadata
	if err := readYAML(filepath.Join(chartDir, "Chart.yaml"), &meta); err != nil {
		return nil, err
	}
	values := map[string]interface{}{}
	if err := readYAML(filepath.Join(chartDir, "values.yaml"), &values); err != nil {
		return nil, err
	}
	for _, file := range extra {
		override := map[string]interface{}{}
		if err := readYAML(file, &override); err != nil {
			return nil, err
		}
		values = coalesce(values, override)
	}
	templates, chartFiles, err := readChart(chartDir, meta.Name)
	if err != nil {
		return nil, err
	}
	top := map[string]interface{}{
		"Values":  values,
		"Chart":   meta,
		"Files":   chartFiles,
		"Release": map[string]interface{}{"Name": name, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.31.0", "Major": "1", "Minor": "31", "GitVersion": "v1.31.0"},
			"APIVersions": apiVersions{"v1", "apps/v1", "policy/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1"},
		},
	}
	return execute(templates, top, meta.Name)
}

func readYAML(file string, into interface{}) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// coalesce lays override over base: maps merge key by key, a null deletes, anything else replaces.
func coalesce(base, override map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if v == nil {
			delete(out, k)
			continue
		}
		baseMap, baseIsMap := out[k].(map[string]interface{})
		overMap, overIsMap := v.(map[string]interface{})
		if baseIsMap && overIsMap {
			out[k] = coalesce(baseMap, overMap)
		} else {
			out[k] = v
		}
	}
	return out
}

// readChart splits the chart into templates (keyed "CHART/templates/FILE", as Helm names them)
// and the other files that .Files serves.
func readChart(chartDir, chartName string) (map[string]string, files, error) {
	templates := map[string]string{}
	chartFiles := files{}
	err := filepath.Walk(chartDir, func(file string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, err := filepath.Rel(chartDir, file)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			templates[chartName+"/"+rel] = string(data)
		case rel == "Chart.yaml" || rel == "values.yaml" || rel == "values.schema.json" || strings.HasPrefix(rel, "charts/"):
		default:
			chartFiles[rel] = data
		}
		return nil
	})
	return templates, chartFiles, err
}

func execute(templates map[string]string, top map[string]interface{}, chartName string) (map[string]string, error) {
	t := template.New("gotpl").Option("missingkey=zero")
	included := map[string]int{}
	t.Funcs(funcMap(t, included))
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := t.New(n).Parse(templates[n]); err != nil {
			return nil, fmt.Errorf("parse error in %s: %w", n, err)
		}
	}
	out := map[string]string{}
	for _, n := range names {
		if strings.HasPrefix(path.Base(n), "_") {
			continue
		}
		vals := map[string]interface{}{}
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": n, "BasePath": chartName + "/templates"}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, n, vals); err != nil {
			return nil, fmt.Errorf("execution error in %s: %w", n, err)
		}
		// Helm's workaround: missingkey=zero still prints "<no value>" for interface{} values.
		out[n] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

// funcMap is sprig's text functions without env access, plus Helm's own (helm/pkg/engine/funcs.go).
func funcMap(t *template.Template, included map[string]int) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		a := []interface{}{}
		if err := yaml.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warn)
		}
		if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warn)
		}
		return val, nil
	}
	f["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		// `helm template` has no cluster either: lookup answers an empty object.
		return map[string]interface{}{}, nil
	}
	f["include"] = includeFunc(t, included)
	f["tpl"] = tplFunc(t, included)
	return f
}

func includeFunc(t *template.Template, included map[string]int) func(string, interface{}) (string, error) {
	return func(name string, data interface{}) (string, error) {
		if included[name] > recursionMax {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		included[name]++
		defer func() { included[name]-- }()
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
}

func tplFunc(parent *template.Template, included map[string]int) func(string, interface{}) (string, error) {
	return func(text string, vals interface{}) (string, error) {
		t, err := parent.Clone()
		if err != nil {
			return "", err
		}
		t.Option("missingkey=zero")
		t.Funcs(template.FuncMap{"include": includeFunc(t, included), "tpl": tplFunc(t, included)})
		t, err = t.New(parent.Name()).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
}
