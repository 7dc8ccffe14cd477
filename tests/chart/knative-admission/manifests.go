package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// readKnativeObjects returns the serving.knative.dev/v1 objects of a multi-document manifest (`helm template`
// output) with the RFC 6902 patch applied to each when one is given, and how many other objects it holds.
func readKnativeObjects(path, patch string) ([]*unstructured.Unstructured, int, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer file.Close()
	var decoded jsonpatch.Patch
	if patch != "" {
		if decoded, err = jsonpatch.DecodePatch([]byte(patch)); err != nil {
			return nil, 0, fmt.Errorf("--json-patch: %w", err)
		}
	}
	var objects []*unstructured.Unstructured
	others := 0
	reader := utilyaml.NewYAMLReader(bufio.NewReader(file))
	for {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		raw, err := yaml.YAMLToJSONStrict(document)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(raw); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		if newServingObject(obj.GroupVersionKind()) == nil {
			others++
			continue
		}
		if decoded != nil {
			patched, err := decoded.Apply(raw)
			if err != nil {
				return nil, 0, fmt.Errorf("--json-patch on %s/%s: %w", obj.GetKind(), obj.GetName(), err)
			}
			obj = &unstructured.Unstructured{}
			if err := obj.UnmarshalJSON(patched); err != nil {
				return nil, 0, err
			}
		}
		objects = append(objects, obj)
	}
	return objects, others, nil
}

// objectKey names an object in messages and pairs the objects of two renders.
func objectKey(obj *unstructured.Unstructured) string {
	return obj.GetKind() + "/" + obj.GetName()
}

// fieldChanges lists the leaf fields that differ between two objects, as `path: before -> after` (`-` when absent),
// ignoring metadata.managedFields.
func fieldChanges(before, after map[string]any) []string {
	var changes []string
	var walk func(path string, a, b any)
	walk = func(path string, a, b any) {
		if path == ".metadata.managedFields" {
			return
		}
		aMap, aIsMap := a.(map[string]any)
		bMap, bIsMap := b.(map[string]any)
		if aIsMap || bIsMap {
			keys := map[string]bool{}
			for key := range aMap {
				keys[key] = true
			}
			for key := range bMap {
				keys[key] = true
			}
			for key := range keys {
				walk(path+"."+key, aMap[key], bMap[key])
			}
			return
		}
		aList, aIsList := a.([]any)
		bList, bIsList := b.([]any)
		if aIsList || bIsList {
			for i := 0; i < len(aList) || i < len(bList); i++ {
				var x, y any
				if i < len(aList) {
					x = aList[i]
				}
				if i < len(bList) {
					y = bList[i]
				}
				walk(path+"["+strconv.Itoa(i)+"]", x, y)
			}
			return
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			changes = append(changes, fmt.Sprintf("%s: %s -> %s", strings.TrimPrefix(path, "."), show(a), show(b)))
		}
	}
	walk("", before, after)
	sort.Strings(changes)
	return changes
}

func show(value any) string {
	if value == nil {
		return "-"
	}
	return fmt.Sprint(value)
}
