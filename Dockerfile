# One image for every role: the build stage runs CI's install and build commands; the final stage holds
# the single `stratus` binary on a distroless base (glibc and libstdc++, no shell, no package manager).
# Build: docker build -t stratus .   Run a role: docker run stratus --role gateway ...

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# No dependency's install script runs (npm 10 ignores package.json#allowScripts) except bun's, which puts
# the platform's bun in place: the others would fetch code from outside the registry (onnxruntime-node's
# CUDA libraries, tfjs-node's libtensorflow) or compile what ships prebuilt (leveldown).
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npm rebuild bun
COPY . .
RUN npx --no-install tsc --noEmit -p tsconfig.build.json \
 && npm run build \
 && ./stratus --version \
 && mkdir -p /out/data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/stratus /usr/local/bin/stratus
# The local store's directory, owned by the runtime user so a named volume mounted there is writable.
COPY --from=build --chown=65532:65532 /out/data /var/lib/stratus/data
# A non-root user with no home to write to; state lives in Kafka and CouchDB (or a mounted --data-dir).
USER 65532:65532
WORKDIR /var/lib/stratus
ENV STRATUS_HOST=0.0.0.0 \
    STRATUS_PORT=3000 \
    STRATUS_DATA_DIR=/var/lib/stratus/data
EXPOSE 3000
# No curl in the image: the binary probes itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/stratus", "probe", "http://127.0.0.1:3000/v2/health/live"]
ENTRYPOINT ["/usr/local/bin/stratus"]
