# Dimmer on the official Node.js 20 image, from a release tarball (build it first: `npm run release`).
#   docker build --build-arg VERSION=0.3.0 -t dimmer:0.3.0 .
#   docker run -p 4242:4242 -v dimmer-data:/var/lib/dimmer dimmer:0.3.0
FROM node:20

ARG VERSION=0.3.0

# ADD unpacks a local tar archive: the release folder lands in /opt/dimmer-<version>.
ADD release/dimmer-${VERSION}.tgz /opt/
RUN mv /opt/dimmer-${VERSION} /opt/dimmer \
 && cd /opt/dimmer \
 && npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /var/lib/dimmer \
 && chown node:node /var/lib/dimmer

WORKDIR /opt/dimmer
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4242 \
    DIMMER_DATA_DIR=/var/lib/dimmer
VOLUME ["/var/lib/dimmer"]
EXPOSE 4242
USER node
CMD ["node", "packages/cli/dist/server.js"]
