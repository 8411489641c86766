# The restore-drill worker image, built without any registry (deploy/worker-image.sh):
# FROM the locally built Debian bookworm image (debootstrap + docker import, deploy/images.sh),
# with the Node.js runtime of the build host, the compiled dist/ and the production node_modules.
ARG BASE=restore-drill/mariadb:10.11
FROM ${BASE}

COPY node /usr/local/bin/node
COPY app /opt/restore-drill

# Drills start sibling containers through the host's Docker engine, which resolves bind mounts on
# the host: mount the artifact folder (and the sources' socket folders) at the SAME path as on the host.
ENV NODE_ENV=production \
    RESTORE_DRILL_HOME=/var/lib/restore-drill \
    RESTORE_DRILL_LOG_LEVEL=INFO
WORKDIR /opt/restore-drill

# Worker.run() ends on SIGTERM: polling stops, in-flight activities get 30 s to finish or heartbeat out.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/node", "/opt/restore-drill/dist/cli/main.js"]
CMD ["worker"]
