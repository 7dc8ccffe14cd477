// Command knative-admission judges rendered manifests with Knative Serving's own admission code, as a cluster would
// on `helm install` and `helm upgrade`, without a cluster:
//
//	create RENDER.yaml            server-side apply onto nothing, then the defaulting and validating webhooks
//	update PREVIOUS.yaml RENDER.yaml
//	                              PREVIOUS is created as above (that is the stored object), then RENDER is applied
//	                              onto it server-side, as Helm 4 upgrades, and admitted as an update
//
// Every serving.knative.dev/v1 object is admitted; other kinds are counted and skipped. One line per object says
// admitted or refused with Knative's message; indented lines list what defaulting changed and what the apply
// removed. Exit 0 when every object is admitted, 1 when one is refused, 2 on bad input.
//
// Flags:
//
//	--crd-dir DIR               Knative Serving CRDs (config/core/300-resources), the schemas server-side apply uses
//	--kubernetes-swagger FILE   Kubernetes OpenAPI document (ObjectMeta's schema)
//	--config NAME.KEY=VALUE     a key of config-defaults, config-features or config-autoscaler (repeatable)
//	--json-patch OPS            RFC 6902 patch applied to every Knative object of RENDER.yaml (to break it on purpose)
//	--user NAME                 the user the API server passes to the webhooks (default "deployer")
//	--source-digest             print the sha256 of the sources this binary was built from (.ci/tools.sh) and exit
//	--webhook-only              skip the server-side apply: the webhooks see the render as it is (a field the CRD
//	                            schema does not declare, which the API server refuses first, reaches Knative's code)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// fieldManager is the field manager Helm 4 applies with (the binary's name).
const fieldManager = "helm"

// sourceDigest is set at build time (-ldflags -X) by .ci/tools.sh, which rebuilds when the sources change.
var sourceDigest = "unknown"

type configFlags map[string]map[string]string

func (c configFlags) String() string { return "" }

func (c configFlags) Set(value string) error {
	name, rest, ok := strings.Cut(value, ".")
	key, val, ok2 := strings.Cut(rest, "=")
	if !ok || !ok2 || key == "" {
		return fmt.Errorf("want NAME.KEY=VALUE, e.g. config-features.secure-pod-defaults=enabled")
	}
	if c[name] == nil {
		c[name] = map[string]string{}
	}
	c[name][key] = val
	return nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	flags := flag.NewFlagSet("knative-admission", flag.ContinueOnError)
	crdDir := flags.String("crd-dir", "", "Knative Serving CRD directory (config/core/300-resources)")
	swagger := flags.String("kubernetes-swagger", "", "Kubernetes OpenAPI (swagger.json)")
	patch := flags.String("json-patch", "", "RFC 6902 patch applied to every Knative object of the render")
	user := flags.String("user", "deployer", "user passed to the webhooks")
	webhookOnly := flags.Bool("webhook-only", false, "skip the server-side apply")
	printDigest := flags.Bool("source-digest", false, "print the sha256 of the sources this binary was built from")
	overrides := configFlags{}
	flags.Var(overrides, "config", "NAME.KEY=VALUE of config-defaults, config-features or config-autoscaler (repeatable)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *printDigest {
		fmt.Println(sourceDigest)
		return 0
	}
	operands := flags.Args()
	usage := func(message string) int {
		fmt.Fprintf(os.Stderr, "knative-admission: %s\nusage: knative-admission [flags] create RENDER.yaml | update PREVIOUS.yaml RENDER.yaml\n", message)
		return 2
	}
	if *crdDir == "" || *swagger == "" {
		return usage("--crd-dir and --kubernetes-swagger are required")
	}
	var previous, render string
	switch {
	case len(operands) == 2 && operands[0] == "create":
		render = operands[1]
	case len(operands) == 3 && operands[0] == "update":
		previous, render = operands[1], operands[2]
	default:
		return usage("expected `create RENDER.yaml` or `update PREVIOUS.yaml RENDER.yaml`")
	}

	ctx := context.Background()
	hook, err := newWebhook(ctx, overrides, *user)
	if err != nil {
		return usage(err.Error())
	}
	ssa, err := newServerSideApply(*crdDir, *swagger)
	if err != nil {
		return usage(err.Error())
	}
	ssa.skip = *webhookOnly
	objects, others, err := readKnativeObjects(render, *patch)
	if err != nil {
		return usage(err.Error())
	}
	stored := map[string]*unstructured.Unstructured{}
	if previous != "" {
		before, _, err := readKnativeObjects(previous, "")
		if err != nil {
			return usage(err.Error())
		}
		for _, obj := range before {
			admitted, ok := admitOne(ctx, hook, ssa, "create (previous release)", nil, obj)
			if !ok {
				return usage(fmt.Sprintf("%s of %s is refused on create: it cannot be the stored object of an update", objectKey(obj), previous))
			}
			stored[objectKey(obj)] = admitted
		}
	}

	refused := 0
	for _, obj := range objects {
		live := stored[objectKey(obj)]
		operation := "create"
		if live != nil {
			operation = "update"
		}
		if _, ok := admitOne(ctx, hook, ssa, operation, live, obj); !ok {
			refused++
		}
	}
	fmt.Printf("knative-admission: %d Knative object(s) %s, %d refused; %d other object(s) skipped\n",
		len(objects), map[bool]string{true: "updated", false: "created"}[previous != ""], refused, others)
	if refused > 0 {
		return 1
	}
	return 0
}

// admitOne applies `render` onto `live` (nil on create) server-side, runs the webhooks and prints the outcome.
// It returns the object the API server would store.
func admitOne(ctx context.Context, hook *webhook, ssa *serverSideApply, operation string, live, render *unstructured.Unstructured) (*unstructured.Unstructured, bool) {
	name := objectKey(render)
	applied, err := ssa.apply(live, render, fieldManager)
	if err != nil {
		fmt.Printf("%s %s: refused by the API server: %v\n", operation, name, err)
		return nil, false
	}
	var removed []string
	if live != nil {
		for _, change := range fieldChanges(live.Object, applied.Object) {
			if strings.HasSuffix(change, "-> -") {
				removed = append(removed, change)
			}
		}
	}
	raw, err := applied.MarshalJSON()
	if err != nil {
		fmt.Printf("%s %s: %v\n", operation, name, err)
		return nil, false
	}
	var storedObj admittable
	if live != nil {
		liveRaw, _ := live.MarshalJSON()
		if storedObj, err = decode(live.GroupVersionKind(), liveRaw); err != nil {
			fmt.Printf("%s %s: %v\n", operation, name, err)
			return nil, false
		}
	}
	result, err := hook.admit(ctx, applied.GroupVersionKind(), raw, storedObj)
	if err != nil {
		fmt.Printf("%s %s: %v\n", operation, name, err)
		return nil, false
	}
	printList := func(title string, lines []string) {
		if len(lines) > 0 {
			fmt.Printf("  %s:\n%s\n", title, indent(strings.Join(lines, "\n"), "    "))
		}
	}
	printList("removed by the server-side apply (fields the render does not set)", removed)
	if result.object == nil {
		fmt.Printf("%s %s: refused by Knative's webhook: validation failed: %s\n", operation, name, strings.TrimSpace(result.refusal))
		printList("warnings", result.warnings)
		return nil, false
	}
	admitted, err := toUnstructured(result.object)
	if err != nil {
		fmt.Printf("%s %s: %v\n", operation, name, err)
		return nil, false
	}
	decoded, err := toUnstructured(result.decoded)
	if err != nil {
		fmt.Printf("%s %s: %v\n", operation, name, err)
		return nil, false
	}
	// The typed object keeps everything the CRD schema keeps, except managedFields, which the apply computed.
	admitted.SetManagedFields(applied.GetManagedFields())
	fmt.Printf("%s %s: admitted\n", operation, name)
	printList("defaulted by Knative's webhook", fieldChanges(decoded.Object, admitted.Object))
	printList("warnings", result.warnings)
	return admitted, true
}

// toUnstructured converts a typed object through its JSON, as the webhook's patch carries it.
func toUnstructured(obj admittable) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	out := &unstructured.Unstructured{}
	return out, out.UnmarshalJSON(raw)
}
