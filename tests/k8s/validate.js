// SPDX-License-Identifier: Apache-2.0
// Validates Kubernetes objects (a List or one object, JSON files) against the
// API schemas of the npm package kubernetes-models: types, required fields,
// enums. Exit 1 with the reasons on the first invalid object.
//   node tests/k8s/validate.js FILE...
"use strict";
const path = require("path");
const root = path.join(__dirname, "..", "..", "node_modules", "kubernetes-models");
const models = {
  Pod: () => require(path.join(root, "v1")).Pod,
  Service: () => require(path.join(root, "v1")).Service,
  Namespace: () => require(path.join(root, "v1")).Namespace,
  Node: () => require(path.join(root, "v1")).Node,
  EndpointSlice: () => require(path.join(root, "discovery.k8s.io", "v1")).EndpointSlice,
  ConfigMap: () => require(path.join(root, "v1")).ConfigMap,
  ServiceAccount: () => require(path.join(root, "v1")).ServiceAccount,
  DaemonSet: () => require(path.join(root, "apps", "v1")).DaemonSet,
  Job: () => require(path.join(root, "batch", "v1")).Job,
  ClusterRole: () => require(path.join(root, "rbac.authorization.k8s.io", "v1")).ClusterRole,
  ClusterRoleBinding: () => require(path.join(root, "rbac.authorization.k8s.io", "v1")).ClusterRoleBinding,
};
const defaultApiVersion = {EndpointSlice: "discovery.k8s.io/v1", DaemonSet: "apps/v1", Job: "batch/v1",
  ClusterRole: "rbac.authorization.k8s.io/v1", ClusterRoleBinding: "rbac.authorization.k8s.io/v1"};
let n = 0;
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(require("fs").readFileSync(file, "utf8"));
  for (const obj of doc.kind && doc.kind.endsWith("List") ? doc.items : [doc]) {
    const Model = models[obj.kind];
    if (!Model) {
      console.error(`${file}: ${obj.kind}: no schema here`);
      process.exit(1);
    }
    const o = Object.assign({}, obj);
    if (!o.apiVersion) o.apiVersion = defaultApiVersion[obj.kind] || "v1";
    try {
      new (Model())(o).validate();
    } catch (e) {
      console.error(`${file}: ${obj.kind} ${obj.metadata && obj.metadata.name}: ${e.message}`);
      process.exit(1);
    }
    n++;
  }
}
console.log(`${n} objects valid`);
