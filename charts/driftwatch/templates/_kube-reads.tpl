{{/*
driftwatch.kubeReads: the Kubernetes objects the checks in .Values.checks read through the pod's
service account, as YAML: NAMESPACE -> "GROUP/RESOURCE" -> [NAME...] (GROUP empty for core).
Callers: `include "driftwatch.kubeReads" . | fromYaml`. The Roles grant `get` on exactly these
names and nothing else, so users' own checks get the RBAC they need without hand-editing.

What reads the API (docs/kubernetes.md, src/checks/k8s-*.ts, cnpg-cluster.ts, src/kube/):
  k8s-rollout   resource KIND/NAME  -> apps deployments | statefulsets | daemonsets
  cnpg-cluster  cluster NAME        -> postgresql.cnpg.io clusters
  k8s-secret    secret NAME         -> "" secrets
  ingress       ingressFrom { namespace, service } -> "" services (the load balancer's addresses)
  flow          steps[].ingressFrom, the same
Objects read with other credentials need no Role: a k8s-rollout, cnpg-cluster or k8s-secret check
with its own kubeconfig or context (or its file's `defaults:` giving one), an ingressFrom with its
own kubeconfig or context (file defaults do not reach inside ingressFrom; src/config/load.ts).
*/}}
{{- define "driftwatch.kubeReads" -}}
{{- $reads := dict }}
{{- range $file, $text := .Values.checks }}
{{- $doc := fromYaml $text }}
{{- if hasKey $doc "Error" }}
{{- fail (printf "checks.%s is not valid YAML: %s" $file $doc.Error) }}
{{- end }}
{{- $defaults := $doc.defaults | default dict }}
{{- range $i, $check := $doc.checks | default list }}
{{- $where := printf "checks.%s: checks[%d] (%s)" $file $i ($check.name | default "no name") }}
{{- if not (or $check.kubeconfig $check.context $defaults.kubeconfig $defaults.context) }}
{{- if eq $check.type "k8s-rollout" }}
{{- $resource := required (printf "%s: resource is required" $where) $check.resource }}
{{- if not (regexMatch "^[a-z]+(\\.apps)?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" $resource) }}
{{- fail (printf "%s: resource must be KIND/NAME (e.g. deployment/hub), got %q" $where $resource) }}
{{- end }}
{{- $kinds := dict "deployment" "deployments" "deployments" "deployments" "deploy" "deployments" "statefulset" "statefulsets" "statefulsets" "statefulsets" "sts" "statefulsets" "daemonset" "daemonsets" "daemonsets" "daemonsets" "ds" "daemonsets" }}
{{- $kind := regexReplaceAll "^([a-z]+).*$" $resource "${1}" }}
{{- if not (hasKey $kinds $kind) }}
{{- fail (printf "%s: resource kind must be deployment, statefulset or daemonset, got %q" $where $kind) }}
{{- end }}
{{- include "driftwatch.addRead" (list $reads (required (printf "%s: namespace is required" $where) $check.namespace) "apps" (get $kinds $kind) (regexReplaceAll "^[^/]*/" $resource "")) }}
{{- else if eq $check.type "cnpg-cluster" }}
{{- include "driftwatch.addRead" (list $reads (required (printf "%s: namespace is required" $where) $check.namespace) "postgresql.cnpg.io" "clusters" (required (printf "%s: cluster is required" $where) $check.cluster)) }}
{{- else if eq $check.type "k8s-secret" }}
{{- include "driftwatch.addRead" (list $reads (required (printf "%s: namespace is required" $where) $check.namespace) "" "secrets" (required (printf "%s: secret is required" $where) $check.secret)) }}
{{- end }}
{{- end }}
{{- $froms := list }}
{{- with $check.ingressFrom }}{{- $froms = append $froms . }}{{- end }}
{{- range $check.steps | default list }}{{- with .ingressFrom }}{{- $froms = append $froms . }}{{- end }}{{- end }}
{{- range $froms }}
{{- if not (or .kubeconfig .context) }}
{{- include "driftwatch.addRead" (list $reads (required (printf "%s: ingressFrom.namespace is required" $where) .namespace) "" "services" (required (printf "%s: ingressFrom.service is required" $where) .service)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $reads }}
{{- end }}

{{/*
driftwatch.kubeLists: what the checks must *list* through the service account, as YAML:
NAMESPACE -> ["GROUP/RESOURCE"...]. A list cannot be narrowed by resourceNames (RBAC matches
names only on get, and on a list only with a metadata.name field selector), so these rules grant
every object of the resource in that namespace; docs/kubernetes.md says what that means.
  k8s-rollout with expect.digestFrom -> "" pods (the workload's pods by its selector: imageIDs)
  helm-release                      -> "" secrets (Helm's release Secrets by label owner=helm,name=NAME)
  http with endpointsFrom           -> discovery.k8s.io endpointslices (the Service's, by label
                                       kubernetes.io/service-name; file defaults do not reach inside)
Own credentials (kubeconfig or context, also from the file's defaults) need no Role, as above.
*/}}
{{- define "driftwatch.kubeLists" -}}
{{- $lists := dict }}
{{- range $file, $text := .Values.checks }}
{{- $doc := fromYaml $text }}
{{- $defaults := $doc.defaults | default dict }}
{{- range $i, $check := $doc.checks | default list }}
{{- $where := printf "checks.%s: checks[%d] (%s)" $file $i ($check.name | default "no name") }}
{{- if not (or $check.kubeconfig $check.context $defaults.kubeconfig $defaults.context) }}
{{- if and (eq $check.type "k8s-rollout") (dig "expect" "digestFrom" "" $check) }}
{{- include "driftwatch.addList" (list $lists (required (printf "%s: namespace is required" $where) $check.namespace) "" "pods") }}
{{- else if eq $check.type "helm-release" }}
{{- include "driftwatch.addList" (list $lists (required (printf "%s: namespace is required" $where) $check.namespace) "" "secrets") }}
{{- end }}
{{- end }}
{{- with $check.endpointsFrom }}
{{- if not (or .kubeconfig .context) }}
{{- include "driftwatch.addList" (list $lists (required (printf "%s: endpointsFrom.namespace is required" $where) .namespace) "discovery.k8s.io" "endpointslices") }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $lists }}
{{- end }}

{{/* Adds "GROUP/RESOURCE" to LISTS[NAMESPACE], kept unique and sorted. Args: list LISTS NAMESPACE GROUP RESOURCE. */}}
{{- define "driftwatch.addList" -}}
{{- $lists := index . 0 }}
{{- $namespace := toString (index . 1) }}
{{- $resources := append (get $lists $namespace | default list) (printf "%s/%s" (index . 2) (index . 3)) | uniq | sortAlpha }}
{{- $_ := set $lists $namespace $resources }}
{{- end }}

{{/* Adds NAME to READS[NAMESPACE]["GROUP/RESOURCE"], kept unique and sorted. Args: list READS NAMESPACE GROUP RESOURCE NAME. */}}
{{- define "driftwatch.addRead" -}}
{{- $reads := index . 0 }}
{{- $namespace := toString (index . 1) }}
{{- $key := printf "%s/%s" (index . 2) (index . 3) }}
{{- $byResource := get $reads $namespace | default dict }}
{{- $names := append (get $byResource $key | default list) (toString (index . 4)) | uniq | sortAlpha }}
{{- $_ := set $byResource $key $names }}
{{- $_ := set $reads $namespace $byResource }}
{{- end }}
