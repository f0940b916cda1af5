# Avisos y recibos de Fairgate, en español.

notice-heading-what = Qué debe hacer
notice-heading-when = Plazo
notice-heading-where = Dónde
notice-heading-appointment = Su cita
notice-heading-bring = Qué debe traer
notice-heading-rights = Sus derechos
notice-reference = Referencia: { $key }
notice-by = A más tardar el { $date } (inclusive).

notice-register-title = Debe registrarse
notice-register-what = Regístrese en persona en un puerto de entrada o en una de las oficinas indicadas abajo.
notice-reregister-title = Debe renovar su registro
notice-reregister-what = Acuda a una de las oficinas indicadas abajo para renovar su registro.
notice-report-change-title = Informe de su cambio
notice-report-change-what = Informe a una de las oficinas indicadas abajo de su cambio de domicilio, de empleador o de centro de estudios, en persona o por el portal.
notice-record-departure-title = Haga registrar su salida
notice-record-departure-what = Cuando salga del país, pida al agente del puerto que registre su salida.
notice-interview-title = Le corresponde una entrevista
notice-interview-what = Acuda a la oficina indicada abajo para su entrevista.

notice-appointment = { $day } a las { $time }, en { $office } ({ $minutes } minutos). Para cambiarla, use el portal (Citas) o pregunte en cualquier ventanilla de una oficina; también puede venir sin cita y se le atenderá cuando haya una ventanilla libre.
notice-office-yours = { $name } ({ $code }), { $address }: la oficina de su domicilio; abierta { $hours }

notice-bring-document = Su pasaporte u otro documento de viaje.
notice-bring-notice = Este aviso.
notice-bring-photo = Nada más: se le tomará una fotografía en la oficina.
notice-bring-photo-prints = Nada más: se le tomarán una fotografía y las huellas dactilares en la oficina.

notice-right-basis = Esto lo exige { $title } ({ $id }), { $basis }. Termina a más tardar el { $sunset }.
notice-right-good-cause = Si no puede venir a tiempo por un motivo justificado (enfermedad, problemas de transporte, una emergencia familiar, un aviso que le llegó tarde), dígaselo a una oficina: se le puede dispensar y la fecha puede cambiar.
notice-right-not-a-finding = No acudir en la fecha o a una cita no es por sí mismo una conclusión en su contra: una cita perdida da lugar a una nueva. Solo una persona, después de escucharle, puede decidir si un incumplimiento fue intencionado, y nunca sin que se le haya entregado este aviso.
notice-right-counsel = Puede venir con un abogado u otro representante, y pedir un intérprete sin costo.
notice-right-records = Puede ver todos los datos que se guardan sobre usted, quién los ha consultado y por qué, y pedir una corrección.

notice-email-subject = { $title } (referencia { $key })
notice-letter-title = Avisos para imprimir

weekday-mon = lun
weekday-tue = mar
weekday-wed = mié
weekday-thu = jue
weekday-fri = vie
weekday-sat = sáb
weekday-sun = dom

receipt-title = FAIRGATE: RECIBO DE REGISTRO
receipt-number = Número de registro: { $number }
receipt-code = Código de acceso al portal: { $code }
receipt-leaf = Anotado en el registro público en la hoja { $leaf } (tamaño del árbol { $size }).
receipt-keep = Guarde este recibo: prueba que usted se registró. Con el número y el código puede ver en /portal todos los datos que se guardan sobre usted, y quién los ha consultado y por qué.

notice-no-appointment = No tiene una cita reservada: reserve una en el portal (Citas) o en cualquier ventanilla de una oficina, o venga sin cita y se le atenderá cuando haya una ventanilla libre.

portal-records-title = Sus datos
portal-records-intro = Todo lo que Fairgate guarda sobre usted, y todos los que lo consultaron, a fecha de { $when }.
portal-erasure = Sus datos del programa { $program } se borrarán el { $day }. Guarde esta copia si puede necesitar demostrar que cumplió.
portal-you = Usted
portal-person = { $names }, nacido/a el { $born }, { $nationality }. Documento { $document }.
portal-registrations = Registros
portal-registration = { $number }: { $kind } en { $place } el { $at }
portal-voluntary = (voluntario)
portal-crossings = Entradas y salidas
portal-crossing = { $direction } en { $port } el { $at }
portal-disclosures = Quién consultó sus datos, y por qué
portal-col-when = cuándo
portal-col-agency = organismo
portal-col-role = función
portal-col-purpose = finalidad
portal-col-what = qué

# El portal en el navegador.
web-language = Idioma
web-intro = Consulte todos los datos que se guardan sobre usted, y quién los consultó y por qué. Necesita el número de registro y el código de activación de su recibo.
web-activate-heading = La primera vez: active el portal
web-number = Número de registro
web-code = Código de activación (en su recibo)
web-choose-pass = Elija una frase de contraseña
web-pass-hint = Al menos 12 caracteres. A partir de ahora entrará con ella; el código deja de servir.
web-activate = Activar
web-signin-heading = Entrar
web-pass = Frase de contraseña
web-signin = Entrar
web-signout = Salir
web-again = Envíe el formulario de nuevo.
web-wrong-code = El número de registro o el código de activación no es correcto: compruebe ambos en su recibo.
web-used-code = Este código de activación ya se usó: entre con su frase de contraseña. Si no activó usted el portal, pida un código nuevo en una oficina.
web-expired-code = Este código de activación tiene más de 30 días: pida uno nuevo en una oficina.
web-wrong-pass = El número de registro o la frase de contraseña no es correcto, o el portal aún no está activado.
web-logged = Esta página quedó registrada como consulta suya, en la hoja { $leaf } del registro público.
web-none = No consta ninguno.
web-col-who = quién
web-notices = Lo que debe hacer
web-no-notices = Nada: no tiene avisos.
web-book-heading = Pedir o cambiar la cita
web-office = Oficina
web-office-usual = La oficina de su dirección
web-from = A partir del día (AAAA-MM-DD, opcional)
web-book = Pedir la primera hora libre
web-booked = Cita: { $office }, el { $day } a las { $time }.
web-corrections = Correcciones
web-correction-item = Solicitud { $number } ({ $field }): { $status }. Respuesta a más tardar el { $due }.
web-correction-answer = Respuesta: { $reply }
web-correction-field = Qué está mal (por ejemplo: nombre, fecha de nacimiento)
web-correction-text = Qué debería decir, y por qué
web-correction-send = Pedir la corrección
web-correction-sent = Solicitud { $number } enviada. Se responderá, con sus motivos, a más tardar el { $due }.
web-change-heading = Comunique un cambio
web-change-kind = Qué cambió
web-change-address = Dirección
web-change-employer = Empleador
web-change-school = Centro de estudios
web-changed-on = El día (AAAA-MM-DD)
web-street = Calle y número
web-city = Ciudad
web-postal = Código postal
web-employer = Nombre del empleador
web-school = Nombre del centro de estudios
web-change-send = Comunicar el cambio
web-change-sent = Su cambio consta (hoja { $leaf } del registro público).
web-download-heading = Descargar todo
web-download-intro = Todo lo que se guarda sobre usted y cada consulta, para conservarlo. Sobre todo, guarde una copia cuando los datos de un programa vayan a borrarse.
web-download-html = Como página para imprimir o guardar
web-download-json = Como datos (JSON)
web-back = Volver a sus datos
web-problem = No se pudo hacer

# El marco de la página.
layout-skip = Saltar al contenido principal
layout-public-pages = Páginas públicas
layout-transparency = Informe de transparencia
layout-calculator = Calculadora de estancia
layout-programs = Programas
layout-policy = Política de acceso
layout-log = El registro público
layout-expungements = Borrados
layout-api = Descripción de la API
