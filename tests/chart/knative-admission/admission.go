package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/logging"
	webhookjson "knative.dev/pkg/webhook/json"
	"knative.dev/serving/pkg/apis/config"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	asconfig "knative.dev/serving/pkg/autoscaler/config"
)

// admittable is what Knative's defaulting and validating webhooks need of a resource (resourcesemantics.GenericCRD).
type admittable interface {
	runtime.Object
	apis.Defaultable
	apis.Validatable
}

// newServingObject returns an empty object of a serving.knative.dev/v1 kind the webhook admits, or nil.
func newServingObject(gvk schema.GroupVersionKind) admittable {
	if gvk.GroupVersion() != servingv1.SchemeGroupVersion {
		return nil
	}
	switch gvk.Kind {
	case "Service":
		return &servingv1.Service{}
	case "Configuration":
		return &servingv1.Configuration{}
	case "Route":
		return &servingv1.Route{}
	case "Revision":
		return &servingv1.Revision{}
	}
	return nil
}

// webhook runs Knative Serving's admission logic the way cmd/webhook wires it: the config store built from the
// config-defaults, config-features and config-autoscaler ConfigMaps decorates every context, the defaulting
// webhook (knative.dev/pkg resourcesemantics/defaulting) calls SetDefaults, the validating webhook
// (resourcesemantics/validation) calls Validate.
type webhook struct {
	store *config.Store
	user  authenticationv1.UserInfo
}

// newWebhook builds the config store from ConfigMaps holding only the given overrides (Knative's defaults otherwise).
func newWebhook(ctx context.Context, overrides map[string]map[string]string, username string) (*webhook, error) {
	store := config.NewStore(logging.FromContext(ctx).Named("config-store"))
	for _, name := range []string{config.DefaultsConfigName, config.FeaturesConfigName, asconfig.ConfigName} {
		data := overrides[name]
		if data == nil {
			data = map[string]string{}
		}
		delete(overrides, name)
		store.OnConfigChanged(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "knative-serving"}, Data: data})
	}
	for name := range overrides {
		return nil, fmt.Errorf("--config %s: the webhook reads only %s, %s and %s", name, config.DefaultsConfigName, config.FeaturesConfigName, asconfig.ConfigName)
	}
	// A constructor that refused its ConfigMap leaves nothing in the store; the webhook would then fail every request.
	loaded := store.Load()
	if loaded.Defaults == nil || loaded.Features == nil || loaded.Autoscaler == nil {
		return nil, fmt.Errorf("a --config value was refused by Knative's ConfigMap parser")
	}
	return &webhook{store: store, user: authenticationv1.UserInfo{Username: username}}, nil
}

// decode parses an object's JSON as the webhooks do (unknown fields allowed: the CRD schema prunes them).
func decode(gvk schema.GroupVersionKind, raw []byte) (admittable, error) {
	obj := newServingObject(gvk)
	if obj == nil {
		return nil, fmt.Errorf("%s is not a kind Knative's webhook admits", gvk)
	}
	if err := webhookjson.Decode(raw, obj, false); err != nil {
		return nil, fmt.Errorf("cannot decode %s: %w", gvk.Kind, err)
	}
	return obj, nil
}

// verdict is the outcome of one admission request.
type verdict struct {
	// object is the admitted object after defaulting (what the API server stores), nil when refused.
	object admittable
	// decoded is the object as the webhook decoded it, before defaulting: the typed round trip adds zero values
	// (e.g. a probe's port: 0) that the webhook's patch also writes, but that are no defaults.
	decoded admittable
	// refusal is the validating webhook's error-level message, empty when admitted.
	refusal string
	// warnings are the validating webhook's warning-level messages.
	warnings []string
}

// admit runs the defaulting then the validating webhook on `raw` (the object after server-side apply). `stored` is
// the object as stored before this request, nil on create.
func (w *webhook) admit(ctx context.Context, gvk schema.GroupVersionKind, raw []byte, stored admittable) (verdict, error) {
	ctx = w.store.ToContext(ctx)

	// Defaulting webhook (defaulting.go, mutate): on update the old object is defaulted first, "so that we don't
	// reject our own defaulting done earlier", and becomes the baseline; the user is added to the context after.
	obj, err := decode(gvk, raw)
	if err != nil {
		return verdict{}, err
	}
	decoded := obj.DeepCopyObject().(admittable)
	defaultingCtx := apis.WithinCreate(ctx)
	if stored != nil {
		baseline := stored.DeepCopyObject().(admittable)
		baseline.SetDefaults(ctx)
		defaultingCtx = apis.WithinUpdate(ctx, baseline)
	}
	obj.SetDefaults(apis.WithUserInfo(defaultingCtx, &w.user))
	ctx = apis.WithUserInfo(ctx, &w.user)

	// Validating webhook (validation_admit.go): the baseline is the stored object as it is.
	validationCtx := apis.WithinCreate(ctx)
	if stored != nil {
		validationCtx = apis.WithinUpdate(ctx, stored)
	}
	result := verdict{object: obj, decoded: decoded}
	if fieldErr := obj.Validate(validationCtx); fieldErr != nil {
		if errs := fieldErr.Filter(apis.ErrorLevel); errs != nil {
			result.object = nil
			result.refusal = errs.Error()
		}
		if warns := fieldErr.Filter(apis.WarningLevel); warns != nil {
			for _, warn := range warns.WrappedErrors() {
				result.warnings = append(result.warnings, warn.Error())
			}
			sort.Strings(result.warnings)
		}
	}
	return result, nil
}

// indent prefixes every line of a multi-line message.
func indent(text, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n"+prefix)
}
