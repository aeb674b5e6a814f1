# Installation layout and the Debian package (Linux):
#
#   cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build --target package      -> build/srv_<version>_<arch>.deb
#
# The package holds the binary, the systemd units, the default
# /etc/srv/srv.ini (a conffile) and the srv(1) man page generated from the
# key table. It enables nothing: `systemctl enable --now srv` does.
if(WIN32 OR CMAKE_CROSSCOMPILING)
  return()
endif()

set(SRV_LINUX_DIR ${CMAKE_SOURCE_DIR}/installer/linux)

# The man page comes from the binary (`srv --help-man`), so it can never
# disagree with --help and docs/config.md.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/srv.1.gz
  COMMAND sh -c "\"$0\" --help-man | gzip -9n > \"$1\"" $<TARGET_FILE:srv>
          ${CMAKE_BINARY_DIR}/srv.1.gz
  DEPENDS srv
  COMMENT "srv(1) man page"
  VERBATIM)
add_custom_target(srv_man ALL DEPENDS ${CMAKE_BINARY_DIR}/srv.1.gz)

install(FILES ${CMAKE_BINARY_DIR}/srv.1.gz DESTINATION share/man/man1)
install(FILES ${SRV_LINUX_DIR}/srv.service ${SRV_LINUX_DIR}/srv.socket
        DESTINATION lib/systemd/system)
install(FILES ${SRV_LINUX_DIR}/srv.ini DESTINATION /etc/srv)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/config.md
        DESTINATION share/doc/srv)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME srv)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "srv developers <srv@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WSGI application server (prefork, libuv, app threads)")
set(CPACK_PACKAGE_DESCRIPTION
    "srv serves Python WSGI applications over HTTP/1.1: a master process and \
worker processes, each with a libuv event loop and a pool of app threads. \
It runs as a systemd service (Type=notify, socket activation) with \
zero-downtime reloads.")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/srv")
# Library dependencies from the binaries (dpkg-shlibdeps: libuv1, libinih1),
# plus the python3 that runs WSGI apps (hosted mode) or libpython (embedded).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(SRV_WITH_PYTHON AND SRV_PYTHON_HOSTED)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${SRV_LINUX_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
