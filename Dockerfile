# syntax=docker/dockerfile:1
# driftwatch image: build with the dev dependencies, ship the compiled code with the production
# dependencies only, on distroless Node 24 LTS (no shell, no package manager), as a non-root user.
# The build steps are npm scripts (build, package:prod), so test/production-build.test.ts runs the
# same steps without Docker.
#
#   docker build -t driftwatch:$(node -p 'require("./package.json").version') \
#     --build-arg REVISION=$(git rev-parse --short HEAD) --build-arg CREATED=$(date -u +%FT%TZ) .

ARG BUILD_IMAGE=node:24-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# Dependencies first: this layer is reused until the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm run build
# /app: package.json, the lockfile, bin/, dist/ and `npm ci --omit=dev` node_modules.
RUN npm run package:prod -- /app

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=""
ARG CREATED=""
LABEL org.opencontainers.image.title="driftwatch" \
      org.opencontainers.image.description="Synthetic monitoring for deployment verification: DNS drift, forced-ingress HTTP, OpenAPI, PostgreSQL and Kubernetes checks as Prometheus metrics" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs24-debian12:nonroot"
ENV NODE_ENV=production
COPY --from=build /app /app
# The check files are mounted here (the Helm chart mounts its ConfigMap). As the working
# directory it is also where the default --checks (./checks) points when CMD is replaced.
WORKDIR /etc/driftwatch
# distroless' nonroot user, numeric so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 9147
# serve listens on 127.0.0.1 unless told otherwise; in a container that would be unreachable
# through -p or a Service, so the image listens on every interface of its own network namespace.
# A --listen among the arguments after the image wins (the last one counts).
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/driftwatch.js", "serve", "--listen", "0.0.0.0:9147"]
CMD ["--checks", "/etc/driftwatch/checks"]
