package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/yaml"
)

// objectMetaRef is where the API server points a CRD's `metadata` (apiextensions builder: "metadata" is replaced by
// the ObjectMeta schema, so labels and annotations merge key by key).
const objectMetaRef = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

// serverSideApply applies a manifest the way the API server handles Helm 4's default upgrade (an apply patch with
// --force-conflicts): the same structured-merge-diff field manager the API server builds for a custom resource
// (managedfields.NewDefaultCRDFieldManager), typed by the CRD's own schema. Where the schema says a list is atomic
// (Knative declares `containers` and `traffic` with no list type), the applied list replaces the live one whole.
type serverSideApply struct {
	managers map[schema.GroupVersionKind]*managedfields.FieldManager
	// skip hands the applied object over as it is (--webhook-only).
	skip bool
}

// newServerSideApply builds field managers for every kind in the CRD files of crdDir, with ObjectMeta's schema taken
// from the Kubernetes OpenAPI document.
func newServerSideApply(crdDir, kubernetesSwagger string) (*serverSideApply, error) {
	definitions, err := readObjectMetaDefinitions(kubernetesSwagger)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no CRD files in %s", crdDir)
	}
	var kinds []schema.GroupVersionKind
	for _, file := range files {
		found, err := readCRDDefinitions(file, definitions)
		if err != nil {
			return nil, err
		}
		kinds = append(kinds, found...)
	}
	converter, err := managedfields.NewTypeConverter(definitions, false)
	if err != nil {
		return nil, fmt.Errorf("typing the CRD schemas: %w", err)
	}
	ssa := &serverSideApply{managers: map[schema.GroupVersionKind]*managedfields.FieldManager{}}
	for _, gvk := range kinds {
		manager, err := managedfields.NewDefaultCRDFieldManager(converter, sameVersion{}, noDefaults{}, unstructuredCreater{}, gvk, gvk.GroupVersion(), "", nil)
		if err != nil {
			return nil, fmt.Errorf("field manager for %s: %w", gvk, err)
		}
		ssa.managers[gvk] = manager
	}
	return ssa, nil
}

// apply returns `live` (nil: the object does not exist yet) with `applied` applied by `manager`, managed fields
// included, as the API server hands it to the admission webhooks.
func (s *serverSideApply) apply(live, applied *unstructured.Unstructured, manager string) (*unstructured.Unstructured, error) {
	if s.skip {
		return applied.DeepCopy(), nil
	}
	gvk := applied.GroupVersionKind()
	fieldManager := s.managers[gvk]
	if fieldManager == nil {
		return nil, fmt.Errorf("no CRD schema for %s", gvk)
	}
	if live == nil {
		live = &unstructured.Unstructured{}
		live.SetGroupVersionKind(gvk)
	}
	out, err := fieldManager.Apply(live.DeepCopy(), applied.DeepCopy(), manager, true)
	if err != nil {
		return nil, fmt.Errorf("server-side apply: %w", err)
	}
	return out.(*unstructured.Unstructured), nil
}

var refPattern = regexp.MustCompile(`"\$ref":\s*"#/definitions/([^"]+)"`)

// readObjectMetaDefinitions returns ObjectMeta's schema and every definition it references, from a Swagger document.
func readObjectMetaDefinitions(path string) (map[string]*spec.Schema, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var document struct {
		Definitions map[string]json.RawMessage `json:"definitions"`
	}
	if err := json.Unmarshal(text, &document); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	definitions := map[string]*spec.Schema{}
	pending := []string{objectMetaRef}
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		if definitions[name] != nil {
			continue
		}
		raw, ok := document.Definitions[name]
		if !ok {
			return nil, fmt.Errorf("%s: no definition %s", path, name)
		}
		definition := &spec.Schema{}
		if err := json.Unmarshal(raw, definition); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, name, err)
		}
		definitions[name] = definition
		for _, match := range refPattern.FindAllSubmatch(raw, -1) {
			pending = append(pending, string(match[1]))
		}
	}
	return definitions, nil
}

// readCRDDefinitions adds the schema of every served version of a CRD file to definitions, shaped as the API
// server's apiextensions builder shapes it for server-side apply, and returns their kinds.
func readCRDDefinitions(path string, definitions map[string]*spec.Schema) ([]schema.GroupVersionKind, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var crd struct {
		Kind string `json:"kind"`
		Spec struct {
			Group string `json:"group"`
			Names struct {
				Kind string `json:"kind"`
			} `json:"names"`
			Versions []struct {
				Name   string `json:"name"`
				Served bool   `json:"served"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(text, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if crd.Kind != "CustomResourceDefinition" {
		return nil, nil
	}
	var kinds []schema.GroupVersionKind
	for _, version := range crd.Spec.Versions {
		root := version.Schema.OpenAPIV3Schema
		if !version.Served || root == nil {
			continue
		}
		properties, _ := root["properties"].(map[string]any)
		if properties == nil {
			properties = map[string]any{}
			root["properties"] = properties
		}
		properties["metadata"] = map[string]any{"$ref": "#/definitions/" + objectMetaRef}
		properties["apiVersion"] = map[string]any{"type": "string"}
		properties["kind"] = map[string]any{"type": "string"}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: version.Name, Kind: crd.Spec.Names.Kind}
		root["x-kubernetes-group-version-kind"] = []any{map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}}
		raw, err := json.Marshal(root)
		if err != nil {
			return nil, err
		}
		definition := &spec.Schema{}
		if err := json.Unmarshal(raw, definition); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// The reversed group is the API server's naming of CRD definitions (e.g. dev.knative.serving.v1.Service).
		groupParts := strings.Split(gvk.Group, ".")
		for i, j := 0, len(groupParts)-1; i < j; i, j = i+1, j-1 {
			groupParts[i], groupParts[j] = groupParts[j], groupParts[i]
		}
		definitions[strings.Join(groupParts, ".")+"."+gvk.Version+"."+gvk.Kind] = definition
		kinds = append(kinds, gvk)
	}
	return kinds, nil
}

// sameVersion is the object converter of a CRD with a single served version: nothing to convert.
type sameVersion struct{}

func (sameVersion) Convert(in, out, _ any) error {
	return fmt.Errorf("conversion between types is not modelled")
}

func (sameVersion) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	gvk := in.GetObjectKind().GroupVersionKind()
	if want, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{gvk}); !ok || want != gvk {
		return nil, fmt.Errorf("conversion of %s to another version is not modelled", gvk)
	}
	return in.DeepCopyObject(), nil
}

func (sameVersion) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}

// noDefaults stands for the CRD's structural defaults, which the chart makes moot by rendering those fields.
type noDefaults struct{}

func (noDefaults) Default(runtime.Object) {}

// unstructuredCreater creates the empty objects the field manager starts from.
type unstructuredCreater struct{}

func (unstructuredCreater) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(gvk)
	return obj, nil
}
